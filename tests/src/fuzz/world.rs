//! The fuzzer's world: two markets on the real program, five reserves, five
//! actors, and the execution of every [`Op`] as transactions.

// Reserve and actor indices address several parallel arrays (keys, mints,
// markets, oracle modes); a range loop reads better than zipped iterators.
#![allow(clippy::needless_range_loop)]

use std::collections::BTreeMap;

use anchor_lang::prelude::Pubkey;
use ballast::engine::fx::{Fx, FxExt};
use ballast::engine::health::{obligation_health, spot_values, Health, Requirement};
use ballast::engine::liquidation::LiquidationConfig;
use ballast::engine::oracle::OraclePrice;
use ballast::engine::shares::{debt_for_shares, tokens_for_shares_floor};
use ballast::state::{Market, Obligation, PositionKind, Reserve, ReserveConfig};
use ballast_keeper::chain::embedded::EmbeddedChain;
use ballast_keeper::chain::embedded::TransactionResult;
use solana_instruction::{AccountMeta, Instruction};
use solana_instruction_error::InstructionError;
use solana_message::Message;
use solana_transaction::Transaction;
use solana_transaction_error::TransactionError;

use ballast::engine::term::TermConfig;

use super::op::{Amt, AttackKind, ConfigChange, Middle, Op, OracleMode, TermChange};
use crate::{
    buffered_config, ix, test_config, Address, Keypair, PythPrice, Signer, TestContext, TestMarket,
    TestReserve, TOKEN_2022_PROGRAM_ID, TOKEN_PROGRAM_ID,
};

/// Actors: users 0..=2, the attacker, the liquidator.
pub const ACTORS: usize = 5;
/// The attacker's index.
pub const ATTACKER: usize = 3;
/// The liquidator's index.
pub const LIQUIDATOR: usize = 4;
/// Reserves: A/USDC, A/SOL, A/ETH, B/USDC, B/SOL.
pub const RESERVES: usize = 5;
/// Mints: USDC (SPL Token, 6 decimals), SOL (Token-2022, 9), ETH (SPL Token, 8).
pub const MINTS: usize = 3;
/// The mint of each reserve.
pub const RES_MINT: [usize; RESERVES] = [0, 1, 2, 0, 1];
/// The market of each reserve (0: A, 1: B).
pub const RES_MARKET: [usize; RESERVES] = [0, 0, 0, 1, 1];
/// Reserve names, for messages.
pub const RES_NAME: [&str; RESERVES] = ["A/USDC", "A/SOL", "A/ETH", "B/USDC", "B/SOL"];
/// Decimals of each mint.
pub const DECIMALS: [u8; MINTS] = [6, 9, 8];
/// Start prices, USD.
pub const START_PRICE: [f64; MINTS] = [1.0, 20.0, 2_000.0];
/// Unix time the world starts at (2023-11-14).
pub const START_TIME: i64 = 1_700_000_000;
/// Each user's and the attacker's starting wallet, whole tokens.
const WALLET: [f64; MINTS] = [1_000_000.0, 50_000.0, 500.0];
/// The liquidator's starting wallet, whole tokens.
const LIQUIDATOR_WALLET: [f64; MINTS] = [1_000_000_000.0, 10_000_000.0, 100_000.0];
/// The outflow limiter of the two USDC reserves: window (s) and cap (whole USDC).
pub const LIMITER: [(u32, f64); 2] = [(3_600, 300_000.0), (3_600, 400_000.0)];

/// The result of one transaction.
#[derive(Clone, Debug)]
pub struct Sent {
    /// Whether it succeeded.
    pub ok: bool,
    /// The refusal's error name (`ZeroAmount`, `token:1`, ...), `ok` on success.
    pub code: String,
    /// The logs.
    pub logs: Vec<String>,
    /// The return data.
    pub return_data: Vec<u8>,
}

/// Everything the invariants read, decoded, at one instant.
#[derive(Clone)]
pub struct Obs {
    /// Unix time.
    pub now: i64,
    /// The reserves as stored.
    pub reserves: Vec<Reserve>,
    /// Liquidity vault balances.
    pub vault: Vec<u64>,
    /// Insurance vault balances.
    pub insurance: Vec<u64>,
    /// `obligations[actor][market]`.
    pub obligations: Vec<[Obligation; 2]>,
    /// The treasury obligation (A's authority's obligation in B).
    pub treasury_ob: Obligation,
    /// `wallets[actor][mint]`.
    pub wallets: Vec<[u64; MINTS]>,
    /// Both markets.
    pub markets: [Market; 2],
}

/// The world of one fuzz case. Cloning it clones the VM (cheap next to
/// setting it up again).
pub struct World {
    /// The chain with the program.
    pub ctx: TestContext,
    /// Market A and market B (admin = risk authority).
    pub markets: [TestMarket; 2],
    /// The reserves.
    pub res: [TestReserve; RESERVES],
    /// The mints.
    pub mints: [Address; MINTS],
    /// The actors.
    pub actors: Vec<Keypair>,
    /// `wallets[actor][mint]`.
    pub wallets: Vec<[Address; MINTS]>,
    /// `obligations[actor][market]`.
    pub obligations: Vec<[Address; 2]>,
    /// A's treasury obligation in B.
    pub treasury_ob: Address,
    /// Tokens minted by the harness, per mint.
    pub minted: [u64; MINTS],
    /// Price of each mint, USD.
    pub prices: [f64; MINTS],
    /// What each reserve's oracle publishes.
    pub modes: [OracleMode; RESERVES],
    /// Per-case history the invariants keep (see [`super::check`]).
    pub hist: super::check::History,
    /// Whether the known-open gates apply ([`super::known`]).
    pub gated: bool,
    /// Known-open defects whose checks apply in this world regardless.
    pub ungate: Vec<super::known::Known>,
}

/// Reserves with a term configuration at setup: A/USDC and A/ETH.
pub const TERM_RESERVES: [usize; 2] = [0, 2];

/// A term configuration (`set_term_config`). [`TermChange::Standard`] is
/// the world's: a 1-day grid with tenors of 1, 2 and 4 days (so that the
/// fuzzer's clock warps, up to 2.3 days, reach maturity), a 2% spread, a
/// slope of 10% per 100% of supply committed, at most 50% of the supply per
/// maturity, a 10% penalty APR.
pub fn term_config(change: TermChange) -> TermConfig {
    let day = 86_400;
    let standard = TermConfig {
        tenors_secs: [day, 2 * day, 4 * day],
        grid_secs: day,
        base_spread_bps: 200,
        slope_bps: 1_000,
        max_commit_bps: 5_000,
        penalty_spread_bps: 1_000,
        _padding: [0; 8],
    };
    match change {
        TermChange::Standard => standard,
        TermChange::Steep => TermConfig {
            base_spread_bps: 3_000,
            slope_bps: 20_000,
            max_commit_bps: 1_000,
            ..standard
        },
        TermChange::Disabled => TermConfig::default(),
        TermChange::InvalidGrid => TermConfig {
            grid_secs: 1_800,
            ..standard
        },
    }
}

/// A/SOL's configuration: [`test_config`] under the dynamic policy with
/// [`ballast::fixtures::sol_risk`] (LT steps of 1% per push, 10 min apart,
/// stale after 2 h).
pub fn sol_config() -> ReserveConfig {
    ReserveConfig {
        risk: ballast::fixtures::sol_risk(),
        ..test_config([0; 32])
    }
}

fn clone_kp(k: &Keypair) -> Keypair {
    k.insecure_clone()
}

impl Clone for World {
    fn clone(&self) -> Self {
        Self {
            ctx: TestContext {
                chain: EmbeddedChain {
                    svm: self.ctx.chain.svm.clone(),
                    payer: clone_kp(&self.ctx.chain.payer),
                },
            },
            markets: [0, 1].map(|i| TestMarket {
                admin: clone_kp(&self.markets[i].admin),
                market: self.markets[i].market,
            }),
            res: self.res,
            mints: self.mints,
            actors: self.actors.iter().map(clone_kp).collect(),
            wallets: self.wallets.clone(),
            obligations: self.obligations.clone(),
            treasury_ob: self.treasury_ob,
            minted: self.minted,
            prices: self.prices,
            modes: self.modes,
            hist: self.hist.clone(),
            gated: self.gated,
            ungate: self.ungate.clone(),
        }
    }
}

fn units(whole: f64, decimals: u8) -> u64 {
    (whole * 10f64.powi(decimals as i32)).round() as u64
}

/// The error name of a failed transaction: Anchor's `Error Code: X` from the
/// logs, else `custom:N` (token programs), else the runtime error.
pub fn error_name(err: &TransactionError, logs: &[String]) -> String {
    for l in logs.iter().rev() {
        if let Some(i) = l.find("Error Code: ") {
            let rest = &l[i + 12..];
            return rest.split('.').next().unwrap_or(rest).to_string();
        }
    }
    match err {
        TransactionError::InstructionError(_, InstructionError::Custom(n)) => format!("custom:{n}"),
        TransactionError::InstructionError(_, e) => format!("{e:?}"),
        e => format!("{e:?}"),
    }
}

impl World {
    /// Sets up both markets, the reserves, the actors and a first book
    /// (deposits on both USDC reserves, two borrowers, a first deploy).
    pub fn new() -> Self {
        let mut ctx = TestContext::new();
        // Signatures are not what is fuzzed: the signer flags the program
        // sees come from the message, so refusals stay the same without
        // verifying ed25519 (most of a transaction's host time otherwise).
        let svm = std::mem::take(&mut ctx.chain.svm);
        ctx.chain.svm = svm.with_sigverify(false).with_transaction_history(0);
        // A realistic clock: unix time 0 is the risk state's "never pushed"
        // (a push or a policy switch at t = 0 would read as none).
        ctx.chain.set_time(START_TIME);
        let a = ctx.setup_market();
        let b = ctx.setup_market();
        let usdc_cfg = {
            let mut c = buffered_config([0; 32]);
            c.liquidity.outflow_window_secs = LIMITER[0].0;
            c.liquidity.outflow_cap = units(LIMITER[0].1, 6);
            c
        };
        let a_usdc = ctx.add_reserve(&a, &TOKEN_PROGRAM_ID, 6, 1.0, usdc_cfg);
        let a_sol = ctx.add_reserve(&a, &TOKEN_2022_PROGRAM_ID, 9, 20.0, sol_config());
        let a_eth = ctx.add_reserve(&a, &TOKEN_PROGRAM_ID, 8, 2_000.0, test_config([0; 32]));
        let b_usdc_cfg = {
            let mut c = test_config([0; 32]);
            c.liquidity.outflow_window_secs = LIMITER[1].0;
            c.liquidity.outflow_cap = units(LIMITER[1].1, 6);
            c
        };
        let b_usdc = ctx.add_reserve_for_mint(&b, &a_usdc.keys.mint, 6, 1.0, b_usdc_cfg);
        let b_sol = ctx.add_reserve_for_mint(&b, &a_sol.keys.mint, 9, 20.0, test_config([0; 32]));
        // Being B/USDC's strategy user needs B's admin's consent (issue 13).
        ctx.approve_strategy_user(&b, &b_usdc, &a_usdc.keys.reserve);
        let ixs = ix::set_treasury_strategy(&a.admin.pubkey(), &a_usdc.keys, &b_usdc.keys);
        ctx.ok("set_treasury_strategy", &[ixs], &[&a.admin]);
        for r in TERM_RESERVES {
            let ix = ix::set_term_config(
                &a.admin.pubkey(),
                &[a_usdc, a_sol, a_eth][r].keys,
                term_config(TermChange::Standard),
            );
            ctx.ok("set_term_config", &[ix], &[&a.admin]);
        }
        let treasury_ob = ix::treasury_obligation(&b.market, &a.market);
        let res = [a_usdc, a_sol, a_eth, b_usdc, b_sol];
        let mints = [a_usdc.keys.mint, a_sol.keys.mint, a_eth.keys.mint];
        let mut actors = Vec::new();
        let mut wallets = Vec::new();
        let mut obligations = Vec::new();
        let mut minted = [0u64; MINTS];
        for i in 0..ACTORS {
            let k = ctx.funded_user(10);
            let whole = if i == LIQUIDATOR {
                LIQUIDATOR_WALLET
            } else {
                WALLET
            };
            let w = [0, 1, 2].map(|m| {
                let amount = units(whole[m], DECIMALS[m]);
                minted[m] += amount;
                ctx.token_account_for(&res[m], &k.pubkey(), amount)
            });
            let o = [
                ctx.open_obligation(&k, &a.market, 0),
                ctx.open_obligation(&k, &b.market, 0),
            ];
            actors.push(k);
            wallets.push(w);
            obligations.push(o);
        }
        let mut w = Self {
            ctx,
            markets: [a, b],
            res,
            mints,
            actors,
            wallets,
            obligations,
            treasury_ob,
            minted,
            prices: START_PRICE,
            modes: [OracleMode::Fresh; RESERVES],
            hist: Default::default(),
            gated: true,
            ungate: Vec::new(),
        };
        // A first book: USDC supplied in both markets, SOL collateral and
        // USDC debt in both, a dynamic-policy push, a first deploy.
        let setup = [
            Op::Deposit {
                actor: 0,
                res: 0,
                amt: Amt::Pct(40),
            },
            Op::Deposit {
                actor: 0,
                res: 3,
                amt: Amt::Pct(40),
            },
            Op::Deposit {
                actor: 2,
                res: 1,
                amt: Amt::Pct(20),
            },
            Op::Borrow {
                actor: 2,
                res: 0,
                amt: Amt::Pct(90),
            },
            Op::Deposit {
                actor: 1,
                res: 4,
                amt: Amt::Pct(10),
            },
            Op::Borrow {
                actor: 1,
                res: 3,
                amt: Amt::Pct(90),
            },
            Op::Deposit {
                actor: 0,
                res: 2,
                amt: Amt::Pct(50),
            },
            Op::Borrow {
                actor: 0,
                res: 1,
                amt: Amt::Pct(80),
            },
            Op::PushSigma { sigma_milli: 800 },
            // A first term loan of A/USDC (2 days) against the SOL.
            Op::BorrowTerm {
                actor: 2,
                res: 0,
                tenor: 1,
                amt: Amt::Pct(5),
            },
            Op::Rebalance,
            // A fifth of every bonus to insurance, so socialisations draw on it.
            Op::Config {
                res: 0,
                change: ConfigChange::Liquidation(2_000, 500),
            },
            Op::Config {
                res: 3,
                change: ConfigChange::Liquidation(2_000, 500),
            },
        ];
        for op in &setup {
            w.refresh_oracles();
            let sents = w.exec(op).expect("setup op");
            assert!(sents.iter().all(|s| s.ok), "setup {op:?}: {sents:?}");
            let now = w.now();
            super::check::record_flows(&mut w, now, &sents);
        }
        // Insurance funded by the protocol (a thousandth of a user's wallet
        // per reserve), so that socialisations draw on it (invariant 9).
        for r in 0..RESERVES {
            let m = RES_MINT[r];
            let amount = units(WALLET[m] / 1_000.0, DECIMALS[m]);
            w.ctx
                .chain
                .mint_to(&w.mints[m], &w.res[r].keys.insurance_vault, amount)
                .expect("fund insurance");
            w.minted[m] += amount;
        }
        let obs = w.observe();
        w.hist.start(&obs);
        w
    }

    /// The reserve index of `res` (modulo the count).
    pub fn r(res: u8) -> usize {
        res as usize % RESERVES
    }

    /// The actor index of `a` (modulo the count).
    pub fn a(a: u8) -> usize {
        a as usize % ACTORS
    }

    /// The lender or borrower `a` stands for: the liquidator's wallets stay
    /// for liquidations (invariant 6 needs them funded).
    pub fn user(a: u8) -> usize {
        a as usize % LIQUIDATOR
    }

    /// Obligation of `actor` in the market of reserve `r`.
    pub fn ob(&self, actor: usize, r: usize) -> Address {
        self.obligations[actor][RES_MARKET[r]]
    }

    /// Wallet of `actor` for the mint of reserve `r`.
    pub fn wallet(&self, actor: usize, r: usize) -> Address {
        self.wallets[actor][RES_MINT[r]]
    }

    /// Reserve `r` as stored.
    pub fn reserve(&self, r: usize) -> Reserve {
        self.ctx.reserve(&self.res[r])
    }

    /// Unix time now.
    pub fn now(&self) -> i64 {
        self.ctx.clock().unix_timestamp
    }

    /// Writes a price now for every oracle not left stale.
    pub fn refresh_oracles(&mut self) {
        let now = self.now();
        for r in 0..RESERVES {
            let conf_bps = match self.modes[r] {
                OracleMode::Stale => continue,
                OracleMode::Fresh => 5,
                OracleMode::Wide => 500,
            };
            let price = self.prices[RES_MINT[r]];
            let mut p = PythPrice::usd(self.res[r].feed_id, price, now);
            p.conf = ((price * 1e8) * conf_bps as f64 / 10_000.0)
                .round()
                .max(1.0) as u64;
            p.ema_conf = p.conf;
            self.ctx.set_pyth(&self.res[r], &p);
        }
    }

    /// Every account an operation can touch (for the refusal check).
    pub fn tracked(&self) -> Vec<Address> {
        let mut v: Vec<Address> = self.markets.iter().map(|m| m.market).collect();
        for r in &self.res {
            v.extend([
                r.keys.reserve,
                r.keys.liquidity_vault,
                r.keys.insurance_vault,
                r.keys.oracle,
            ]);
        }
        v.extend(self.mints);
        for a in 0..ACTORS {
            v.extend(self.obligations[a]);
            v.extend(self.wallets[a]);
            v.push(self.actors[a].pubkey());
        }
        v.push(self.treasury_ob);
        v
    }

    /// Decodes everything the invariants read.
    pub fn observe(&self) -> Obs {
        let bal = |a: &Address| self.ctx.token_balance(a).unwrap_or(0);
        Obs {
            now: self.now(),
            reserves: (0..RESERVES).map(|r| self.reserve(r)).collect(),
            vault: self
                .res
                .iter()
                .map(|r| bal(&r.keys.liquidity_vault))
                .collect(),
            insurance: self
                .res
                .iter()
                .map(|r| bal(&r.keys.insurance_vault))
                .collect(),
            obligations: self
                .obligations
                .iter()
                .map(|o| o.map(|a| self.ctx.obligation(&a)))
                .collect(),
            treasury_ob: self.ctx.obligation(&self.treasury_ob),
            wallets: self.wallets.iter().map(|w| w.map(|a| bal(&a))).collect(),
            markets: [0, 1].map(|i| {
                self.ctx
                    .zero_copy::<Market>(&self.markets[i].market)
                    .expect("market")
            }),
        }
    }

    /// Sends `ixs` signed by `signers`; a refusal must leave every tracked
    /// account byte-for-byte as it was (invariant 2).
    pub fn send(&mut self, ixs: &[Instruction], signers: &[&Keypair]) -> Result<Sent, String> {
        let signers = required(ixs, signers);
        let signers = &signers[..];
        let tracked = self.tracked();
        let before = self.ctx.snapshot(&tracked);
        let res: TransactionResult = self.ctx.chain.send(ixs, signers);
        match res {
            Ok(meta) => Ok(Sent {
                ok: true,
                code: "ok".into(),
                logs: meta.logs,
                return_data: meta.return_data.data,
            }),
            Err(e) => {
                let after = self.ctx.snapshot(&tracked);
                if before != after {
                    let changed: Vec<String> = tracked
                        .iter()
                        .zip(before_after(&before, &after))
                        .filter(|(_, c)| *c)
                        .map(|(a, _)| a.to_string())
                        .collect();
                    return Err(format!(
                        "invariant 2: a refused transaction ({:?}) changed accounts {changed:?}",
                        e.err
                    ));
                }
                Ok(Sent {
                    ok: false,
                    code: error_name(&e.err, &e.meta.logs),
                    logs: e.meta.logs,
                    return_data: vec![],
                })
            }
        }
    }

    /// Simulates `ixs` (nothing is written); `Ok` or the error name.
    pub fn simulate(&self, ixs: &[Instruction], signers: &[&Keypair]) -> Result<(), String> {
        let signers = required(ixs, signers);
        let payer = &self.ctx.chain.payer;
        let mut all: Vec<&Keypair> = vec![payer];
        all.extend(
            signers
                .iter()
                .copied()
                .filter(|k| k.pubkey() != payer.pubkey()),
        );
        let msg = Message::new(ixs, Some(&payer.pubkey()));
        let tx = Transaction::new(&all, msg, self.ctx.chain.svm.latest_blockhash());
        match self.ctx.chain.svm.simulate_transaction(tx) {
            Ok(_) => Ok(()),
            Err(e) => Err(error_name(&e.err, &e.meta.logs)),
        }
    }

    /// The validated oracle price of reserve `r` now (`None` when stale,
    /// wide, or otherwise refused).
    pub fn price(&self, r: usize, now: i64) -> Option<OraclePrice> {
        let reserve = self.reserve(r);
        let acc = self.ctx.chain.svm.get_account(&reserve.oracle)?;
        let update = ballast::runtime::oracle_account::decode_bytes(&acc.data).ok()?;
        ballast::engine::oracle::validate_price(
            &update,
            &ballast::runtime::oracle_account::limits(&reserve),
            now,
        )
        .ok()
    }

    pub(super) fn res_index(&self, key: &Pubkey) -> usize {
        self.res
            .iter()
            .position(|r| r.keys.reserve == *key)
            .expect("a known reserve")
    }

    /// The obligation's health under `req` as the engine computes it on the
    /// host. Positions whose oracle is unusable: collateral counts zero when
    /// `lenient`, else (and for debt) the result is `None`.
    pub fn health(&self, o: &Obligation, req: Requirement, lenient: bool) -> Option<Health> {
        let now = self.now();
        let mut views = BTreeMap::new();
        let mut positions = Vec::new();
        for p in o
            .positions
            .iter()
            .filter(|p| p.kind() != PositionKind::Empty)
        {
            let r = self.res_index(&p.reserve);
            match self.price(r, now) {
                Some(price) => {
                    views.insert(p.reserve, (self.reserve(r).view(now).ok()?, price));
                    positions.push(*p);
                }
                None if lenient && p.kind() == PositionKind::Collateral => {}
                None => return None,
            }
        }
        obligation_health(&positions, |k| views.get(k).map(|(v, p)| (v, p)), req).ok()
    }

    /// [`World::health`] with every reserve accrued (and A/USDC's treasury
    /// marked) to now ([`World::projected`]): the obligation's true health.
    /// An instruction values a reserve it has not accrued at its stored
    /// supply (interest owed to depositors since the last accrual left out,
    /// the protocol's favour), but `liquidate` accrues both reserves of its
    /// pair first; so an obligation below 1 only at stored supplies can be
    /// healthy to every liquidation, and liveness is judged here. `None`
    /// when an oracle is unusable.
    pub fn health_projected(&self, o: &Obligation, req: Requirement) -> Option<Health> {
        let now = self.now();
        let mut views = BTreeMap::new();
        for p in o
            .positions
            .iter()
            .filter(|p| p.kind() != PositionKind::Empty)
        {
            let r = self.res_index(&p.reserve);
            let price = self.price(r, now)?;
            views.insert(p.reserve, (self.projected(r).view(now).ok()?, price));
        }
        obligation_health(&o.positions, |k| views.get(k).map(|(v, p)| (v, p)), req).ok()
    }

    /// Unweighted spot values (collateral, debt), micro-USD, when every
    /// oracle of the obligation is usable.
    pub fn spot(&self, o: &Obligation) -> Option<(Fx, Fx)> {
        let now = self.now();
        let mut views = BTreeMap::new();
        for p in o
            .positions
            .iter()
            .filter(|p| p.kind() != PositionKind::Empty)
        {
            let r = self.res_index(&p.reserve);
            views.insert(
                p.reserve,
                (self.reserve(r).view(now).ok()?, self.price(r, now)?),
            );
        }
        spot_values(&o.positions, |k| views.get(k).map(|(v, p)| (v, p))).ok()
    }

    /// Reserve `r` accrued to now, and its treasury marked at the strategy's
    /// rate projected to now: what an instruction sees after its accrual.
    pub fn projected(&self, r: usize) -> Reserve {
        let now = self.now();
        let mut reserve = self.reserve(r);
        reserve.accrue_interest(now).expect("accrue");
        if r == 0 && reserve.treasury.deployed_shares > 0 {
            let mut s = self.reserve(3);
            let _ = ballast::engine::treasury::mark(&mut reserve, &mut s, now);
        }
        reserve
    }

    /// Tokens the collateral of `o` in `r` redeems now (rounded down).
    pub fn claim(&self, o: &Obligation, r: usize) -> u64 {
        let key = self.res[r].keys.reserve;
        let Some(i) = o.find(&key, PositionKind::Collateral) else {
            return 0;
        };
        let reserve = self.projected(r);
        tokens_for_shares_floor(
            o.positions[i].deposit_shares,
            reserve.supply().unwrap_or(Fx::ZERO),
            reserve.deposit_shares,
        )
        .ok()
        .and_then(|t| t.to_floor_u64().ok())
        .unwrap_or(0)
    }

    /// The debt of `o` in `r` now, rounded up.
    pub fn debt(&self, o: &Obligation, r: usize) -> u64 {
        let key = self.res[r].keys.reserve;
        let Some(i) = o.find(&key, PositionKind::Debt) else {
            return 0;
        };
        let index = self.projected(r).borrow_index.get();
        debt_for_shares(o.positions[i].borrow_shares.get(), index)
            .ok()
            .and_then(|t| t.to_ceil_u64().ok())
            .unwrap_or(u64::MAX)
    }

    /// The term loan of `o` in `r`, if any.
    pub fn term_loan(&self, o: &Obligation, r: usize) -> Option<ballast::state::TermLoan> {
        let key = self.res[r].keys.reserve;
        o.find(&key, PositionKind::TermDebt)
            .map(|i| o.positions[i].term())
    }

    /// What the term loan of `o` in `r` is worth to the reserve now, base
    /// units rounded up: its book value (face less the interest not yet
    /// earned) before maturity, the face with the penalty past it. 0
    /// without a term loan.
    pub fn term_debt(&self, o: &Obligation, r: usize) -> u64 {
        use ballast::engine::term::{loan_unearned, owed};
        let Some(l) = self.term_loan(o, r) else {
            return 0;
        };
        let now = self.now();
        let v = if now < l.maturity {
            loan_unearned(l.face, l.principal, l.open_ts, l.maturity, now)
                .ok()
                .and_then(|u| Fx::from_num(l.face).checked_sub(u))
        } else {
            owed(l.face, l.maturity, l.penalty_bps, now).ok()
        };
        v.and_then(|x| x.to_ceil_u64().ok()).unwrap_or(u64::MAX)
    }

    /// The transactions' instructions of a liquidation as the keeper sends
    /// them: one `convert_term_debt` per term loan of the obligation first
    /// (the program refuses to liquidate unconverted term debt), then
    /// `liquidate` (or `liquidate_for_shares` when `for_shares`) with the
    /// accounts of the obligation as the conversions leave it.
    pub fn liquidation_ixs(
        &self,
        liq: usize,
        owner: usize,
        d: usize,
        c: usize,
        max_repay: u64,
        for_shares: bool,
    ) -> Vec<Instruction> {
        let key = self.ob(owner, d);
        let raw = self.ctx.obligation(&key);
        if !raw.has_term_debt() {
            return vec![if for_shares {
                self.liquidate_for_shares_ix(liq, owner, d, c, max_repay)
            } else {
                self.liquidate_ix(liq, owner, d, c, max_repay)
            }];
        }
        let keys = |k: &Address| ix::health_keys(&self.reserve(self.res_index(k)));
        let mut out = ix::term_conversions(&self.markets[RES_MARKET[d]].market, &key, &raw, keys);
        let after = ix::after_term_conversion(&raw);
        let health = ix::with_write_off_accounts(
            ix::health_accounts(&after, None, keys),
            &after,
            &self.res[d].keys.reserve,
            |k| Some(self.reserve(self.res_index(k))),
        );
        let liq_ix = if for_shares {
            ix::liquidate_for_shares(
                &self.actors[liq].pubkey(),
                &key,
                &self.ob(liq, d),
                &self.res[d].keys,
                &self.res[c].keys,
                &self.wallet(liq, d),
                max_repay,
                health,
            )
        } else {
            ix::liquidate(
                &self.actors[liq].pubkey(),
                &key,
                &self.res[d].keys,
                &self.res[c].keys,
                &self.wallet(liq, d),
                &self.wallet(liq, c),
                max_repay,
                health,
            )
        };
        out.push(ix::with_accounts(liq_ix, self.strategy_meta(c)));
        out
    }

    /// `socialize_bad_debt` of `owner`'s debt in `r` (with the dust
    /// accounts), after one `convert_term_debt` per term loan, as the
    /// keeper's bad-debt task sends it.
    pub fn socialize_ixs(&self, owner: usize, r: usize) -> Vec<Instruction> {
        let key = self.ob(owner, r);
        let raw = self.ctx.obligation(&key);
        let keys = |k: &Address| ix::health_keys(&self.reserve(self.res_index(k)));
        let mut out = if raw.has_term_debt() {
            ix::term_conversions(&self.markets[RES_MARKET[r]].market, &key, &raw, keys)
        } else {
            vec![]
        };
        let after = ix::after_term_conversion(&raw);
        let dust = ix::dust_accounts(&after, |k| self.reserve(self.res_index(k)).oracle);
        out.push(ix::with_accounts(
            ix::socialize_bad_debt(&key, &self.res[r].keys),
            dust,
        ));
        out
    }

    /// Rough borrowing power of `actor` in reserve `r`, base units.
    fn borrow_power(&self, actor: usize, r: usize) -> u64 {
        let o = self.ctx.obligation(&self.ob(actor, r));
        let Some(h) = self.health(&o, Requirement::Initial, false) else {
            return units(1_000.0 / self.prices[RES_MINT[r]], DECIMALS[RES_MINT[r]]);
        };
        let excess = (h.collateral - h.debt).to_num::<f64>() / 1e6;
        let bf = self.reserve(r).config.borrow_factor_bps as f64 / 10_000.0;
        let tokens = excess.max(0.0) / self.prices[RES_MINT[r]] / bf.max(1.0);
        let liquid = self.reserve(r).available_amount as f64;
        (tokens * 10f64.powi(DECIMALS[RES_MINT[r]] as i32)).min(liquid) as u64
    }

    fn amount(amt: Amt, base: u64) -> u64 {
        match amt {
            Amt::Nothing => 0,
            Amt::OneUnit => 1,
            Amt::AllMax => u64::MAX,
            Amt::Pct(p) => ((base as u128 * p as u128 / 100).max(1)).min(u64::MAX as u128) as u64,
        }
    }

    /// The trailing strategy account of reserve `r` (A/USDC only).
    fn strategy_meta(&self, r: usize) -> Vec<AccountMeta> {
        if r == 0 {
            vec![AccountMeta::new_readonly(self.res[3].keys.reserve, false)]
        } else {
            vec![]
        }
    }

    fn deposit_ix(&self, actor: usize, r: usize, amount: u64) -> Instruction {
        ix::with_accounts(
            ix::deposit(
                &self.actors[actor].pubkey(),
                &self.res[r].keys,
                &self.ob(actor, r),
                &self.wallet(actor, r),
                amount,
            ),
            self.strategy_meta(r),
        )
    }

    fn withdraw_ix(&self, actor: usize, r: usize, amount: u64, recall: bool) -> Instruction {
        let o = self.ob(actor, r);
        let mut health = self.ctx.health_accounts(&o, &[]);
        if recall && r == 0 {
            health.extend(ix::recall_accounts(&self.res[0].keys, &self.res[3].keys));
        } else {
            health.extend(self.strategy_meta(r));
        }
        ix::withdraw(
            &self.actors[actor].pubkey(),
            &self.res[r].keys,
            &o,
            &self.wallet(actor, r),
            amount,
            health,
        )
    }

    fn borrow_ix(&self, actor: usize, r: usize, amount: u64) -> Instruction {
        let o = self.ob(actor, r);
        let health = self.ctx.health_accounts(&o, &[&self.res[r]]);
        ix::borrow(
            &self.actors[actor].pubkey(),
            &self.res[r].keys,
            &o,
            &self.wallet(actor, r),
            amount,
            health,
        )
    }

    fn repay_ix(&self, payer: usize, owner: usize, r: usize, amount: u64) -> Instruction {
        ix::repay(
            &self.actors[payer].pubkey(),
            &self.res[r].keys,
            &self.ob(owner, r),
            &self.wallet(payer, r),
            amount,
        )
    }

    /// The `liquidate` instruction (with the collateral's strategy account).
    pub fn liquidate_ix(
        &self,
        liq: usize,
        owner: usize,
        d: usize,
        c: usize,
        max_repay: u64,
    ) -> Instruction {
        let o = self.ob(owner, d);
        let health = self.ctx.liquidation_accounts(&o, &self.res[d]);
        ix::with_accounts(
            ix::liquidate(
                &self.actors[liq].pubkey(),
                &o,
                &self.res[d].keys,
                &self.res[c].keys,
                &self.wallet(liq, d),
                &self.wallet(liq, c),
                max_repay,
                health,
            ),
            self.strategy_meta(c),
        )
    }

    /// The `liquidate_for_shares` instruction (issue 12): the seized
    /// collateral is credited as deposit shares to liquidator `liq`'s own
    /// obligation in the same market; no cash leaves the collateral vault.
    pub fn liquidate_for_shares_ix(
        &self,
        liq: usize,
        owner: usize,
        d: usize,
        c: usize,
        max_repay: u64,
    ) -> Instruction {
        let o = self.ob(owner, d);
        let health = self.ctx.liquidation_accounts(&o, &self.res[d]);
        ix::with_accounts(
            ix::liquidate_for_shares(
                &self.actors[liq].pubkey(),
                &o,
                &self.ob(liq, d),
                &self.res[d].keys,
                &self.res[c].keys,
                &self.wallet(liq, d),
                max_repay,
                health,
            ),
            self.strategy_meta(c),
        )
    }

    /// Obligations with debt, least healthy (Maintenance, usable oracles)
    /// first: (actor, market, health ratio or 0 when it cannot be priced).
    fn indebted(&self) -> Vec<(usize, usize, f64)> {
        let mut v = Vec::new();
        for a in 0..ACTORS {
            for m in 0..2 {
                let o = self.ctx.obligation(&self.obligations[a][m]);
                if !o.has_debt() {
                    continue;
                }
                let h = self
                    .health(&o, Requirement::Maintenance, true)
                    .and_then(|h| h.ratio())
                    .map_or(0.0, |x| x.to_num::<f64>());
                v.push((a, m, h));
            }
        }
        v.sort_by(|x, y| x.2.total_cmp(&y.2));
        v
    }

    /// A liquidation target for the drawn indices: three times in four the
    /// least healthy indebted obligation (else another one), with one of its
    /// debt and one of its collateral reserves.
    fn target(&self, owner: u8, debt: u8, coll: u8) -> Option<(usize, usize, usize)> {
        let v = self.indebted();
        if v.is_empty() {
            return None;
        }
        let pick = if !owner.is_multiple_of(4) {
            0
        } else {
            owner as usize % v.len()
        };
        let (a, m, _) = v[pick];
        let o = self.ctx.obligation(&self.obligations[a][m]);
        let of = |kind| -> Vec<usize> {
            (0..RESERVES)
                .filter(|&r| {
                    RES_MARKET[r] == m && o.find(&self.res[r].keys.reserve, kind).is_some()
                })
                .collect()
        };
        // Term debt is floating debt once converted (the liquidation's
        // transaction converts it first).
        let mut ds = of(PositionKind::Debt);
        for r in of(PositionKind::TermDebt) {
            if !ds.contains(&r) {
                ds.push(r);
            }
        }
        let cs = of(PositionKind::Collateral);
        if ds.is_empty() || cs.is_empty() {
            return None;
        }
        Some((
            a,
            ds[debt as usize % ds.len()],
            cs[coll as usize % cs.len()],
        ))
    }

    /// An obligation with debt and no collateral, if any: (actor, reserve).
    fn bad_debt(&self, owner: u8) -> Option<(usize, usize)> {
        let mut v = Vec::new();
        for a in 0..ACTORS {
            for m in 0..2 {
                let o = self.ctx.obligation(&self.obligations[a][m]);
                if o.has_debt()
                    && !o
                        .positions
                        .iter()
                        .any(|p| p.kind() == PositionKind::Collateral)
                {
                    for r in (0..RESERVES).filter(|&r| RES_MARKET[r] == m) {
                        if o.find(&self.res[r].keys.reserve, PositionKind::Debt)
                            .is_some()
                        {
                            v.push((a, r));
                        }
                    }
                }
            }
        }
        (!v.is_empty()).then(|| v[owner as usize % v.len()])
    }

    /// A term loan for the drawn indices: three times in four one of the
    /// open term loans (owner, reserve), if any; else as drawn.
    fn term_holder(&self, owner: u8, res: u8) -> (usize, usize) {
        let mut v = Vec::new();
        for a in 0..ACTORS {
            for r in TERM_RESERVES {
                let o = self.ctx.obligation(&self.ob(a, r));
                if self.term_loan(&o, r).is_some() {
                    v.push((a, r));
                }
            }
        }
        if v.is_empty() || owner.is_multiple_of(4) {
            return (Self::a(owner), Self::r(res));
        }
        v[res as usize % v.len()]
    }

    fn admin(&self, r: usize) -> Keypair {
        clone_kp(&self.markets[RES_MARKET[r]].admin)
    }

    fn config_ix(
        &self,
        r: usize,
        signer: &Address,
        f: impl FnOnce(&mut ReserveConfig),
    ) -> Instruction {
        let mut config = self.reserve(r).config;
        f(&mut config);
        ix::update_reserve_config(signer, &self.res[r].keys, config)
    }

    /// Runs one operation: its transactions, each checked by [`Self::send`]
    /// and by the per-transaction invariants of [`super::check`]. Returns
    /// what was sent (op name and outcome per transaction).
    pub fn exec(&mut self, op: &Op) -> Result<Vec<Sent>, String> {
        let mut out = Vec::new();
        match *op {
            Op::Deposit { actor, res, amt } => {
                let (a, r) = (Self::user(actor), Self::r(res));
                let bal = self.ctx.token_balance(&self.wallet(a, r)).unwrap_or(0);
                let ix = self.deposit_ix(a, r, Self::amount(amt, bal));
                let k = clone_kp(&self.actors[a]);
                out.push(self.send(&[ix], &[&k])?);
            }
            Op::Withdraw {
                actor,
                res,
                amt,
                recall,
            } => {
                let (a, mut r) = (Self::user(actor), Self::r(res));
                // Mostly one of the actor's collateral positions.
                let o = self.ctx.obligation(&self.ob(a, r));
                if o.find(&self.res[r].keys.reserve, PositionKind::Collateral)
                    .is_none()
                    && !res.is_multiple_of(4)
                {
                    let m = RES_MARKET[r];
                    if let Some(x) = (0..RESERVES).find(|&x| {
                        RES_MARKET[x] == m
                            && o.find(&self.res[x].keys.reserve, PositionKind::Collateral)
                                .is_some()
                    }) {
                        r = x;
                    }
                }
                let o = self.ctx.obligation(&self.ob(a, r));
                let ix = self.withdraw_ix(a, r, Self::amount(amt, self.claim(&o, r)), recall);
                let k = clone_kp(&self.actors[a]);
                out.push(self.send(&[ix], &[&k])?);
            }
            Op::Borrow { actor, res, amt } => {
                let (a, r) = (Self::user(actor), Self::r(res));
                let ix = self.borrow_ix(a, r, Self::amount(amt, self.borrow_power(a, r)));
                let k = clone_kp(&self.actors[a]);
                out.push(self.send(&[ix], &[&k])?);
            }
            Op::Repay {
                payer,
                owner,
                res,
                amt,
            } => {
                let (p, ow, r) = (Self::user(payer), Self::a(owner), Self::r(res));
                let o = self.ctx.obligation(&self.ob(ow, r));
                let ix = self.repay_ix(p, ow, r, Self::amount(amt, self.debt(&o, r)));
                let k = clone_kp(&self.actors[p]);
                out.push(self.send(&[ix], &[&k])?);
            }
            Op::Liquidate {
                liquidator,
                owner,
                debt,
                coll,
                amt,
                times,
            } => {
                let l = Self::a(liquidator);
                // Mostly (3 in 4) the least healthy obligation with debt and
                // one of its own (debt, collateral) pairs; else as drawn
                // (wrong pairs, healthy obligations, other markets).
                let (ow, d, c) = match self.target(owner, debt, coll) {
                    Some(t) if amt != Amt::Nothing || times > 1 => t,
                    _ => (Self::a(owner), Self::r(debt), Self::r(coll)),
                };
                for _ in 0..times.max(1) {
                    let o = self.ctx.obligation(&self.ob(ow, d));
                    let base = self.debt(&o, d).saturating_add(self.term_debt(&o, d));
                    let ixs = self.liquidation_ixs(l, ow, d, c, Self::amount(amt, base), false);
                    let pre_health = self.health(&o, Requirement::Maintenance, true);
                    let pre_spot = self.spot(&o);
                    let cfg = self
                        .ctx
                        .zero_copy::<Market>(&self.markets[RES_MARKET[d]].market)
                        .expect("market")
                        .liquidation;
                    let k = clone_kp(&self.actors[l]);
                    // A self-liquidation by the attacker is one of its round
                    // trips: no net gain in any mint (invariant 3).
                    let own = (l == ATTACKER && ow == ATTACKER)
                        .then(|| super::check::net_worth(self, ATTACKER));
                    let sent = self.send(&ixs, &[&k])?;
                    super::check::liquidation(self, d, c, pre_health, pre_spot, cfg, &o, &sent)?;
                    super::check::liquidation_write_off(self, d, &sent)?;
                    if let Some(before) = own {
                        let after = super::check::net_worth(self, ATTACKER);
                        let own_ob = self.ob(ATTACKER, d);
                        let mut forgiven = [0i128; MINTS];
                        for e in crate::events::<ballast::events::BadDebtSocialized>(&sent.logs) {
                            if e.obligation == own_ob {
                                forgiven[RES_MINT[self.res_index(&e.reserve)]] += e.debt as i128;
                            }
                        }
                        super::check::attacker_gain_beyond(&before, &after, &forgiven)?;
                    }
                    out.push(sent);
                }
            }
            Op::Socialize { owner, res } => {
                // Mostly an obligation with debt and no collateral, if any.
                let (ow, r) = self
                    .bad_debt(owner)
                    .unwrap_or((Self::a(owner), Self::r(res)));
                // With the obligation's collateral reserves and oracles:
                // dust there is forfeited (issue 12), more is refused.
                let dust = ix::dust_accounts(&self.ctx.obligation(&self.ob(ow, r)), |k| {
                    self.reserve(self.res_index(k)).oracle
                });
                let ix = ix::with_accounts(
                    ix::socialize_bad_debt(&self.ob(ow, r), &self.res[r].keys),
                    dust,
                );
                let pre = self.observe();
                let pre_debt = self.debt(&self.ctx.obligation(&self.ob(ow, r)), r);
                let sent = self.send(&[ix], &[])?;
                super::check::socialize(self, &pre, pre_debt, r, &sent)?;
                out.push(sent);
            }
            Op::PushSigma { sigma_milli } => {
                let admin = self.admin(1);
                let ix = ix::update_volatility(
                    &admin.pubkey(),
                    &self.markets[0].market,
                    &self.res[1].keys.reserve,
                    Fx::from_num(sigma_milli) / Fx::from_num(1000),
                );
                out.push(self.send(&[ix], &[&admin])?);
            }
            Op::Rebalance => {
                let ix = ix::rebalance(&self.res[0].keys, &self.res[3].keys);
                out.push(self.send(&[ix], &[])?);
            }
            Op::Accrue { res, mark } => {
                let r = Self::r(res);
                let mut ix = ix::accrue_interest(&self.res[r].keys.reserve);
                if mark {
                    ix = ix::with_accounts(ix, self.strategy_meta(r));
                }
                let sent = self.send(&[ix], &[])?;
                // A mark books the strategy's interest: deployed and
                // deposits both grow by the gain, so deployed / deposits
                // rises a hair; no token moves, and the next rebalance or
                // withdrawal recalls the excess (`History::cap_exempt`).
                if mark && r == 0 && sent.ok {
                    self.hist.cap_exempt = true;
                }
                out.push(sent);
            }
            Op::Sheet { res } => {
                let r = Self::r(res);
                let ix = if r == 0 {
                    ix::balance_sheet_with_strategy(&self.res[0].keys, &self.res[3].keys.reserve)
                } else {
                    ix::balance_sheet(&self.res[r].keys)
                };
                let sent = self.send(&[ix], &[])?;
                super::check::balance_sheet(self, r, &sent)?;
                out.push(sent);
            }
            Op::Pause { market, paused } => {
                let m = market as usize % 2;
                let admin = clone_kp(&self.markets[m].admin);
                let ix = ix::update_market(
                    &admin.pubkey(),
                    &self.markets[m].market,
                    ballast::instructions::UpdateMarketParams {
                        paused: Some(paused),
                        ..Default::default()
                    },
                );
                out.push(self.send(&[ix], &[&admin])?);
            }
            Op::Config { res, change } => {
                let r = Self::r(res);
                let admin = self.admin(r);
                let dec = DECIMALS[RES_MINT[r]];
                let ix = match change {
                    ConfigChange::Liquidation(close, bonus_max) => {
                        let m = RES_MARKET[r];
                        ix::update_market(
                            &admin.pubkey(),
                            &self.markets[m].market,
                            ballast::instructions::UpdateMarketParams {
                                liquidation: Some(LiquidationConfig {
                                    close_factor_bps: close,
                                    bonus_min_bps: bonus_max.min(500),
                                    bonus_max_bps: bonus_max,
                                    protocol_bonus_share_bps: 2_000,
                                    ..LiquidationConfig::SOLEND_LIKE
                                }),
                                ..Default::default()
                            },
                        )
                    }
                    ConfigChange::SwitchPolicy => self.config_ix(r, &admin.pubkey(), |c| {
                        if c.risk.policy == 0 {
                            c.risk = sol_config().risk;
                        } else {
                            c.risk.policy = 0;
                        }
                    }),
                    ConfigChange::DepositCapWhole(n) => {
                        self.config_ix(r, &admin.pubkey(), |c| c.deposit_cap = units(n as f64, dec))
                    }
                    ConfigChange::BorrowCapWhole(n) => {
                        self.config_ix(r, &admin.pubkey(), |c| c.borrow_cap = units(n as f64, dec))
                    }
                    ConfigChange::UncapAll => self.config_ix(r, &admin.pubkey(), |c| {
                        c.deposit_cap = u64::MAX / 4;
                        c.borrow_cap = u64::MAX / 4;
                    }),
                    ConfigChange::OutflowCapWhole(n) => self.config_ix(r, &admin.pubkey(), |c| {
                        c.liquidity.outflow_cap = units(n as f64, dec).max(1)
                    }),
                    ConfigChange::MaxAgeSecs(s) => {
                        self.config_ix(r, &admin.pubkey(), |c| c.oracle_max_age_secs = s)
                    }
                    ConfigChange::Thresholds(ltv, lt) => self.config_ix(r, &admin.pubkey(), |c| {
                        c.loan_to_value_bps = ltv;
                        c.liquidation_threshold_bps = lt;
                    }),
                };
                out.push(self.send(&[ix], &[&admin])?);
            }
            Op::Flash { res, amt, middle } => {
                let r = Self::r(res);
                let a = ATTACKER;
                let bal = self.ctx.token_balance(&self.wallet(a, r)).unwrap_or(0);
                let amount = Self::amount(amt, bal).min(bal.max(1));
                let k = clone_kp(&self.actors[a]);
                let mut ixs = vec![self.deposit_ix(a, r, amount)];
                match middle {
                    Middle::Idle => {}
                    Middle::ThenRebalance => {
                        ixs.push(ix::rebalance(&self.res[0].keys, &self.res[3].keys))
                    }
                    Middle::ThenBorrowRepay => {
                        // Borrow USDC of the same market against it, repay all.
                        let d = if RES_MARKET[r] == 0 { 0 } else { 3 };
                        if d != r {
                            let o = self.ob(a, r);
                            let mut after = self.ctx.obligation(&o);
                            let _ = after
                                .find_or_open(&self.res[r].keys.reserve, PositionKind::Collateral);
                            let _ =
                                after.find_or_open(&self.res[d].keys.reserve, PositionKind::Debt);
                            let health = ix::health_accounts(&after, None, |k| {
                                ix::health_keys(&self.reserve(self.res_index(k)))
                            });
                            let borrow = units(10.0, 6);
                            ixs.push(ix::borrow(
                                &k.pubkey(),
                                &self.res[d].keys,
                                &o,
                                &self.wallet(a, d),
                                borrow,
                                health,
                            ));
                            ixs.push(self.repay_ix(a, a, d, u64::MAX));
                        }
                    }
                }
                // Withdraw everything of the position (health accounts as the
                // obligation will be after the deposit).
                let o = self.ob(a, r);
                let mut after = self.ctx.obligation(&o);
                let _ = after.find_or_open(&self.res[r].keys.reserve, PositionKind::Collateral);
                let mut health = ix::health_accounts(&after, None, |k| {
                    ix::health_keys(&self.reserve(self.res_index(k)))
                });
                if r == 0 {
                    health.extend(ix::recall_accounts(&self.res[0].keys, &self.res[3].keys));
                }
                ixs.push(ix::withdraw(
                    &k.pubkey(),
                    &self.res[r].keys,
                    &o,
                    &self.wallet(a, r),
                    u64::MAX,
                    health,
                ));
                let pre = self.observe();
                let had = self
                    .ctx
                    .obligation(&o)
                    .find(&self.res[r].keys.reserve, PositionKind::Collateral)
                    .is_some();
                let sent = self.send(&ixs, &[&k])?;
                super::check::flash(self, &pre, r, had, &sent)?;
                out.push(sent);
            }
            Op::BorrowRepay { res, amt } => {
                let r = Self::r(res);
                let a = ATTACKER;
                let k = clone_kp(&self.actors[a]);
                let borrow = self.borrow_ix(a, r, Self::amount(amt, self.borrow_power(a, r)));
                let repay = self.repay_ix(a, a, r, u64::MAX);
                out.push(self.send(&[borrow, repay], &[&k])?);
            }
            Op::Attack { kind, res } => {
                let sent = self.attack(kind, Self::r(res))?;
                // A withdrawal into the vault only donates the attacker's own
                // claim (custody: vault >= available); every other must fail.
                if sent.ok && kind != AttackKind::VaultAsWallet {
                    return Err(format!(
                        "attack {kind:?} on {} succeeded",
                        RES_NAME[Self::r(res)]
                    ));
                }
                out.push(sent);
            }
            Op::PriceJump { mint, bps } => {
                let m = mint as usize % MINTS;
                let p = self.prices[m] * bps as f64 / 10_000.0;
                self.prices[m] = p.clamp(START_PRICE[m] / 20.0, START_PRICE[m] * 20.0);
                self.refresh_oracles();
            }
            Op::OracleSet { res, mode } => {
                self.modes[Self::r(res)] = mode;
                self.refresh_oracles();
            }
            Op::Warp { secs } => {
                self.ctx.warp_seconds(secs as i64);
                self.refresh_oracles();
            }
            Op::BorrowTerm {
                actor,
                res,
                tenor,
                amt,
            } => {
                let (a, r) = (Self::user(actor), Self::r(res));
                let face = Self::amount(amt, self.borrow_power(a, r));
                let o = self.ob(a, r);
                let health = ix::term_health_accounts(
                    &self.ctx.obligation(&o),
                    &self.res[r].keys.reserve,
                    |k| ix::health_keys(&self.reserve(self.res_index(k))),
                );
                let ix = ix::borrow_term(
                    &self.actors[a].pubkey(),
                    &self.res[r].keys,
                    &o,
                    &self.wallet(a, r),
                    tenor,
                    face,
                    0,
                    health,
                );
                let pre = self.observe();
                let k = clone_kp(&self.actors[a]);
                let sent = self.send(&[ix], &[&k])?;
                super::check::borrow_term(self, &pre, a, r, face, &sent)?;
                out.push(sent);
            }
            Op::RepayTerm {
                payer,
                owner,
                res,
                amt,
            } => {
                let p = Self::user(payer);
                let (ow, r) = self.term_holder(owner, res);
                let o = self.ctx.obligation(&self.ob(ow, r));
                let face = self.term_loan(&o, r).map_or(1, |l| l.face);
                let ix = ix::repay_term(
                    &self.actors[p].pubkey(),
                    &self.res[r].keys,
                    &self.ob(ow, r),
                    &self.wallet(p, r),
                    Self::amount(amt, face),
                );
                let pre = self.observe();
                let k = clone_kp(&self.actors[p]);
                let sent = self.send(&[ix], &[&k])?;
                super::check::repay_term(self, &pre, p, &o, r, &sent)?;
                out.push(sent);
            }
            Op::ConvertTerm { owner, res } => {
                let (ow, r) = self.term_holder(owner, res);
                let key = self.ob(ow, r);
                let o = self.ctx.obligation(&key);
                let health = self.ctx.health_accounts(&key, &[]);
                let ix = ix::convert_term_debt(
                    &self.markets[RES_MARKET[r]].market,
                    &self.res[r].keys.reserve,
                    &key,
                    health,
                );
                let pre_health = self.health(&o, Requirement::Maintenance, false);
                let sent = self.send(&[ix], &[])?;
                super::check::convert_term(self, &o, r, pre_health, &sent)?;
                out.push(sent);
            }
            Op::TermSet { res, change } => {
                let r = Self::r(res);
                let admin = self.admin(r);
                let ix =
                    ix::set_term_config(&admin.pubkey(), &self.res[r].keys, term_config(change));
                let sent = self.send(&[ix], &[&admin])?;
                if sent.ok == (change == TermChange::InvalidGrid) {
                    return Err(format!(
                        "set_term_config {change:?} of {}: {}",
                        RES_NAME[r], sent.code
                    ));
                }
                out.push(sent);
            }
        }
        Ok(out)
    }

    fn attack(&mut self, kind: AttackKind, r: usize) -> Result<Sent, String> {
        let at = clone_kp(&self.actors[ATTACKER]);
        let victim = 0;
        let ix = match kind {
            AttackKind::StealWithdraw => {
                let o = self.ob(victim, r);
                let health = self.ctx.health_accounts(&o, &[]);
                ix::withdraw(
                    &at.pubkey(),
                    &self.res[r].keys,
                    &o,
                    &self.wallet(ATTACKER, r),
                    1,
                    health,
                )
            }
            AttackKind::StealBorrow => {
                let o = self.ob(victim, r);
                let health = self.ctx.health_accounts(&o, &[&self.res[r]]);
                ix::borrow(
                    &at.pubkey(),
                    &self.res[r].keys,
                    &o,
                    &self.wallet(ATTACKER, r),
                    1,
                    health,
                )
            }
            AttackKind::CrossMarketDeposit => {
                let other = self.obligations[ATTACKER][1 - RES_MARKET[r]];
                ix::deposit(
                    &at.pubkey(),
                    &self.res[r].keys,
                    &other,
                    &self.wallet(ATTACKER, r),
                    1,
                )
            }
            AttackKind::VaultAsWallet => {
                let o = self.ob(ATTACKER, r);
                let health = self.ctx.health_accounts(&o, &[]);
                ix::withdraw(
                    &at.pubkey(),
                    &self.res[r].keys,
                    &o,
                    &self.res[r].keys.liquidity_vault,
                    1,
                    health,
                )
            }
            AttackKind::SwappedOracle | AttackKind::DuplicateHealth => {
                let o = self.ob(ATTACKER, r);
                let mut health = self.ctx.health_accounts(&o, &[&self.res[r]]);
                if kind == AttackKind::SwappedOracle || health.len() < 4 {
                    // Another reserve's oracle for the first listed reserve.
                    let other = (0..RESERVES)
                        .map(|x| self.res[x].keys.oracle)
                        .find(|o| *o != health[1].pubkey)
                        .expect("another oracle");
                    health[1] = AccountMeta::new_readonly(other, false);
                } else {
                    // One reserve listed twice, another missing.
                    let (first, second) = (health[0].clone(), health[1].clone());
                    health[2] = first;
                    health[3] = second;
                }
                ix::borrow(
                    &at.pubkey(),
                    &self.res[r].keys,
                    &o,
                    &self.wallet(ATTACKER, r),
                    1,
                    health,
                )
            }
            AttackKind::FakeAdminConfig => {
                self.config_ix(r, &at.pubkey(), |c| c.loan_to_value_bps = 1)
            }
            AttackKind::FakeAdminMarket => ix::update_market(
                &at.pubkey(),
                &self.markets[RES_MARKET[r]].market,
                ballast::instructions::UpdateMarketParams {
                    paused: Some(true),
                    ..Default::default()
                },
            ),
            AttackKind::FakeRiskAuthority => ix::update_volatility(
                &at.pubkey(),
                &self.markets[0].market,
                &self.res[1].keys.reserve,
                Fx::from_num(0.1),
            ),
            AttackKind::SocializeWithCollateral => {
                // Someone with collateral in r (the deposit makes sure).
                ix::socialize_bad_debt(&self.ob(ATTACKER, r), &self.res[r].keys)
            }
            AttackKind::FakeProposeAdmin => ix::propose_admin(
                &at.pubkey(),
                &self.markets[RES_MARKET[r]].market,
                &at.pubkey(),
            ),
            AttackKind::AcceptUnproposed => {
                ix::accept_admin(&at.pubkey(), &self.markets[RES_MARKET[r]].market)
            }
            AttackKind::FakeSetStrategy => {
                ix::set_treasury_strategy(&at.pubkey(), &self.res[1].keys, &self.res[4].keys)
            }
            AttackKind::ObligationForOther => {
                let victim = self.actors[0].pubkey();
                let mut ix = ix::init_obligation(
                    &at.pubkey(),
                    &victim,
                    &self.markets[RES_MARKET[r]].market,
                    7,
                );
                // The owner's signature is what is missing.
                for m in ix.accounts.iter_mut().filter(|m| m.pubkey == victim) {
                    m.is_signer = false;
                }
                ix
            }
            AttackKind::FakeTermConfig => ix::set_term_config(
                &at.pubkey(),
                &self.res[r].keys,
                term_config(TermChange::Disabled),
            ),
            AttackKind::StealBorrowTerm => {
                let o = self.ob(victim, r);
                let health = self.ctx.health_accounts(&o, &[&self.res[r]]);
                ix::borrow_term(
                    &at.pubkey(),
                    &self.res[r].keys,
                    &o,
                    &self.wallet(ATTACKER, r),
                    0,
                    1_000,
                    0,
                    health,
                )
            }
            AttackKind::CrossMarketBorrowTerm => {
                let other = self.obligations[ATTACKER][1 - RES_MARKET[r]];
                let health = self.ctx.health_accounts(&other, &[&self.res[r]]);
                ix::borrow_term(
                    &at.pubkey(),
                    &self.res[r].keys,
                    &other,
                    &self.wallet(ATTACKER, r),
                    0,
                    1_000,
                    0,
                    health,
                )
            }
            AttackKind::CrossMarketConvert => {
                // A user's obligation in the other market, with this reserve.
                let other = self.obligations[victim][1 - RES_MARKET[r]];
                ix::convert_term_debt(
                    &self.markets[1 - RES_MARKET[r]].market,
                    &self.res[r].keys.reserve,
                    &other,
                    vec![],
                )
            }
            AttackKind::RebalanceWrongStrategy => {
                let wrong = if r == 3 { 4 } else { r.max(1) };
                ix::rebalance(&self.res[0].keys, &self.res[wrong].keys)
            }
        };
        let ixs = if kind == AttackKind::SocializeWithCollateral {
            vec![self.deposit_ix(ATTACKER, r, 1), ix]
        } else {
            vec![ix]
        };
        self.send(&ixs, &[&at])
    }
}

impl Default for World {
    fn default() -> Self {
        Self::new()
    }
}

/// The keypairs of `signers` that some instruction of `ixs` requires (a
/// transaction refuses to be signed by others).
fn required<'k>(ixs: &[Instruction], signers: &[&'k Keypair]) -> Vec<&'k Keypair> {
    signers
        .iter()
        .copied()
        .filter(|k| {
            ixs.iter().any(|ix| {
                ix.accounts
                    .iter()
                    .any(|m| m.is_signer && m.pubkey == k.pubkey())
            })
        })
        .collect()
}

fn before_after(before: &crate::Snapshot, after: &crate::Snapshot) -> Vec<bool> {
    before
        .pairs()
        .iter()
        .zip(after.pairs())
        .map(|(b, a)| b != a)
        .collect()
}

/// The debt of `o` in every reserve with a debt position: (reserve, value
/// rounded up).
pub fn debts(w: &World, o: &Obligation) -> Vec<(usize, u64)> {
    (0..RESERVES)
        .filter(|&r| o.find(&w.res[r].keys.reserve, PositionKind::Debt).is_some())
        .map(|r| (r, w.debt(o, r)))
        .collect()
}
