//! Random sequences of lending operations by three users on a two-reserve
//! market (one reserve under each token program), on the real .so. After
//! every operation, failed ones included, the books must balance:
//!
//! * each vault holds exactly its reserve's `available_amount`;
//! * a reserve's deposit shares are the sum of the obligations' collateral
//!   shares, its debt shares the exact `Fx` sum of their debt shares;
//! * tokens are conserved: wallets + vault = what the test minted = the
//!   mint's supply;
//! * a successful operation moves only the acting wallet, by exactly what the
//!   engine (run on the host over the same state) says; interest accrual on
//!   chain is bit-identical to the host's;
//! * a failed transaction leaves every account byte-identical.

use ballast::engine::fx::{Fx, FxExt, FX_ZERO};
use ballast::engine::shares::{
    debt_for_shares, shares_for_deposit, shares_for_withdraw_ceil, tokens_for_shares_floor,
};
use ballast::state::{PositionKind, Reserve};
use ballast_tests::*;
use proptest::prelude::*;
use proptest::test_runner::Config;

const USERS: usize = 3;
/// Reserve 0: "SOL" (9 decimals, $20); reserve 1: "USDC" (6 decimals, $1).
const DECIMALS: [u8; 2] = [9, 6];
const START_PRICE: [f64; 2] = [20.0, 1.0];
/// What each user's wallet starts with: 1,000 SOL and 100,000 USDC.
const START_BALANCE: [u64; 2] = [1_000_000_000_000, 100_000_000_000];
const DAY: i64 = 86_400;

#[derive(Clone, Debug)]
enum Op {
    /// `pct`% (1..=100) of the wallet; 1 base unit when it is empty.
    Deposit { user: usize, res: usize, pct: u64 },
    /// `pct`% of the position's value, or all (`u64::MAX`) when `None`.
    Withdraw {
        user: usize,
        res: usize,
        pct: Option<u64>,
    },
    /// `pct`% (1..=130) of the estimated borrowing power (at most 90% of
    /// the liquidity): may fail.
    Borrow { user: usize, res: usize, pct: u64 },
    /// `payer` repays `pct`% (1..=120) of `owner`'s debt, or all.
    Repay {
        payer: usize,
        owner: usize,
        res: usize,
        pct: Option<u64>,
    },
    /// Time passes (0..=3 days); both prices are refreshed.
    Warp { secs: i64 },
    /// A price moves by `bps` / 10,000 (0.7x..1.3x).
    Price { res: usize, bps: u64 },
}

fn op() -> impl Strategy<Value = Op> {
    let user = 0..USERS;
    let res = 0usize..2;
    prop_oneof![
        4 => (user.clone(), res.clone(), 1u64..=100)
            .prop_map(|(user, res, pct)| Op::Deposit { user, res, pct }),
        3 => (user.clone(), res.clone(), proptest::option::of(1u64..=100))
            .prop_map(|(user, res, pct)| Op::Withdraw { user, res, pct }),
        5 => (user.clone(), res.clone(), 1u64..=130)
            .prop_map(|(user, res, pct)| Op::Borrow { user, res, pct }),
        3 => (user.clone(), user.clone(), res.clone(), proptest::option::of(1u64..=120))
            .prop_map(|(payer, owner, res, pct)| Op::Repay { payer, owner, res, pct }),
        2 => (0i64..=3 * DAY).prop_map(|secs| Op::Warp { secs }),
        1 => (res, 7_000u64..=13_000).prop_map(|(res, bps)| Op::Price { res, bps }),
    ]
}

/// The market, its users and what the test minted.
struct World {
    ctx: TestContext,
    reserves: [TestReserve; 2],
    prices: [f64; 2],
    users: Vec<Keypair>,
    obligations: Vec<Address>,
    /// `wallets[user][res]`.
    wallets: Vec<[Address; 2]>,
    minted: [u64; 2],
}

impl World {
    /// Reserve 0 under `token_programs[0]`, reserve 1 under the other.
    fn new(token_programs: [Address; 2]) -> Self {
        let mut ctx = TestContext::new();
        let m = ctx.setup_market();
        let reserves = [0, 1].map(|i| {
            ctx.add_reserve(
                &m,
                &token_programs[i],
                DECIMALS[i],
                START_PRICE[i],
                test_config([0; 32]),
            )
        });
        let mut users = Vec::new();
        let mut obligations = Vec::new();
        let mut wallets = Vec::new();
        for _ in 0..USERS {
            let user = ctx.funded_user(10);
            let w = [0, 1]
                .map(|i| ctx.token_account_for(&reserves[i], &user.pubkey(), START_BALANCE[i]));
            obligations.push(ctx.open_obligation(&user, &m.market, 0));
            wallets.push(w);
            users.push(user);
        }
        Self {
            ctx,
            reserves,
            prices: START_PRICE,
            users,
            obligations,
            wallets,
            minted: START_BALANCE.map(|b| b * USERS as u64),
        }
    }

    fn now(&self) -> i64 {
        self.ctx.clock().unix_timestamp
    }

    /// Reserve `res` accrued to now on the host, as the program's handlers
    /// do first.
    fn model(&self, res: usize) -> Reserve {
        let mut r = self.ctx.reserve(&self.reserves[res]);
        r.accrue_interest(self.now()).unwrap();
        r
    }

    fn position(&self, user: usize, res: usize, kind: PositionKind) -> (u64, Fx) {
        let ob = self.ctx.obligation(&self.obligations[user]);
        match ob.find(&self.reserves[res].keys.reserve, kind) {
            Some(i) => (
                ob.positions[i].deposit_shares,
                ob.positions[i].borrow_shares.get(),
            ),
            None => (0, FX_ZERO),
        }
    }

    /// Tokens `user`'s collateral in `res` redeems now, rounded down.
    fn claim(&self, user: usize, res: usize) -> u64 {
        let (held, _) = self.position(user, res, PositionKind::Collateral);
        let r = self.model(res);
        tokens_for_shares_floor(held, r.supply().unwrap(), r.deposit_shares)
            .unwrap()
            .to_floor_u64()
            .unwrap()
    }

    /// `user`'s debt in `res` now, rounded up to a base unit.
    fn debt(&self, user: usize, res: usize) -> u64 {
        let (_, held) = self.position(user, res, PositionKind::Debt);
        let r = self.model(res);
        debt_for_shares(held, r.borrow_index.get())
            .unwrap()
            .to_ceil_u64()
            .unwrap()
    }

    /// Rough borrowing power of `user` in `res` base units (f64, at LTV).
    fn borrowing_power(&self, user: usize, res: usize) -> f64 {
        let mut usd = 0.0;
        for (i, decimals) in DECIMALS.into_iter().enumerate() {
            let scale = 10f64.powi(decimals as i32);
            usd += self.claim(user, i) as f64 / scale * self.prices[i] * 0.75;
            usd -= self.debt(user, i) as f64 / scale * self.prices[i];
        }
        (usd / self.prices[res] * 10f64.powi(DECIMALS[res] as i32)).max(0.0)
    }

    /// `user`, or when it fails `ok` and another user passes, one of those.
    fn pick(&self, user: usize, ok: impl Fn(&Self, usize) -> bool) -> usize {
        if ok(self, user) {
            return user;
        }
        let fits: Vec<usize> = (0..USERS).filter(|&u| ok(self, u)).collect();
        if fits.is_empty() {
            user
        } else {
            fits[user % fits.len()]
        }
    }

    fn balances(&self) -> Vec<[u64; 2]> {
        self.wallets
            .iter()
            .map(|w| w.map(|a| self.ctx.token_balance(&a).unwrap()))
            .collect()
    }

    /// Every account an operation could touch.
    fn tracked(&self) -> Vec<Address> {
        let mut v = vec![self.reserves[0].keys.market];
        for r in &self.reserves {
            v.extend([
                r.keys.reserve,
                r.keys.liquidity_vault,
                r.keys.oracle,
                r.keys.mint,
            ]);
        }
        v.extend(self.obligations.iter().copied());
        v.extend(self.wallets.iter().flatten().copied());
        v.extend(self.users.iter().map(|u| u.pubkey()));
        v
    }

    fn refresh_prices(&mut self) {
        for i in 0..2 {
            self.ctx.set_price(&self.reserves[i], self.prices[i], 0.0);
        }
    }

    /// The books after an operation.
    fn check_books(&self, label: &str) {
        for (i, r) in self.reserves.iter().enumerate() {
            self.ctx.assert_books(label, r, &self.obligations);
            let wallets: u64 = self
                .wallets
                .iter()
                .map(|w| self.ctx.token_balance(&w[i]).unwrap())
                .sum();
            let vault = self.ctx.token_balance(&r.keys.liquidity_vault).unwrap();
            assert_eq!(
                wallets + vault,
                self.minted[i],
                "[{label}] tokens conserved"
            );
            assert_eq!(
                self.ctx.mint_supply(&r.keys.mint),
                self.minted[i],
                "[{label}] mint supply"
            );
        }
    }
}

/// What a successful operation must do to the acting wallet.
struct Expect {
    user: usize,
    res: usize,
    /// Signed change of the wallet's balance.
    delta: i128,
    /// Whether the operation must succeed.
    must_succeed: bool,
    /// The reserve whose accrual the host model predicts.
    model: Reserve,
}

/// Runs `op` and checks the books after it; counts successes and failures
/// in `stats`.
fn run(w: &mut World, op: &Op, step: usize, stats: &mut [u32; 2]) {
    let label = format!("step {step}: {op:?}");
    let (ixs, signer, expect) = match *op {
        Op::Warp { secs } => {
            w.ctx.warp_seconds(secs);
            w.refresh_prices();
            w.check_books(&label);
            return;
        }
        Op::Price { res, bps } => {
            let p = w.prices[res] * bps as f64 / 10_000.0;
            w.prices[res] = p.clamp(START_PRICE[res] / 4.0, START_PRICE[res] * 4.0);
            w.refresh_prices();
            w.check_books(&label);
            return;
        }
        Op::Deposit { user, res, pct } => {
            let bal = w.ctx.token_balance(&w.wallets[user][res]).unwrap();
            let amount = (bal as u128 * pct as u128 / 100).max(1) as u64;
            let mut model = w.model(res);
            // Value left with every share burned (interest accrued after
            // the last holder left) belongs to nobody: `deposit` moves it to
            // the protocol's fees before pricing the new shares.
            let mut supply = model.supply().unwrap();
            if model.deposit_shares == 0 && supply > FX_ZERO {
                let fees = model.protocol_fees.get().add_(supply).unwrap();
                model.protocol_fees.set(fees);
                supply = FX_ZERO;
            }
            let shares = shares_for_deposit(amount, supply, model.deposit_shares).unwrap();
            let ix = ix::deposit(
                &w.users[user].pubkey(),
                &w.reserves[res].keys,
                &w.obligations[user],
                &w.wallets[user][res],
                amount,
            );
            // A deposit into a reserve the obligation owes is a
            // same-reserve loop, refused (`SameReserveLoop`).
            let owes = w.position(user, res, PositionKind::Debt).1 > FX_ZERO;
            let must = amount <= bal && shares > 0 && !owes;
            (
                vec![ix],
                user,
                Expect {
                    user,
                    res,
                    delta: -(amount as i128),
                    must_succeed: must,
                    model,
                },
            )
        }
        Op::Withdraw { user, res, pct } => {
            // Mostly a user who has something to withdraw.
            let user = w.pick(user, |w, u| {
                w.position(u, res, PositionKind::Collateral).0 > 0
            });
            let claim = w.claim(user, res);
            let amount = match pct {
                Some(p) => (claim as u128 * p as u128 / 100).max(1) as u64,
                None => u64::MAX,
            };
            let got = if amount == u64::MAX { claim } else { amount };
            // The obligation's reserves as they are before the withdrawal (the
            // harness's convention, as for `TestContext::withdraw`).
            let health = w.ctx.health_accounts(&w.obligations[user], &[]);
            let ix = ix::withdraw(
                &w.users[user].pubkey(),
                &w.reserves[res].keys,
                &w.obligations[user],
                &w.wallets[user][res],
                amount,
                health,
            );
            let model = w.model(res);
            // Without debt (no health check), a withdrawal within the
            // position and the liquidity must go through.
            let (held, _) = w.position(user, res, PositionKind::Collateral);
            let burns = if amount == u64::MAX {
                Some(held)
            } else {
                shares_for_withdraw_ceil(amount, model.supply().unwrap(), model.deposit_shares).ok()
            };
            let must = !w.ctx.obligation(&w.obligations[user]).has_debt()
                && held > 0
                && burns.is_some_and(|b| b <= held)
                && got <= model.available_amount;
            (
                vec![ix],
                user,
                Expect {
                    user,
                    res,
                    delta: got as i128,
                    must_succeed: must,
                    model,
                },
            )
        }
        Op::Borrow { user, res, pct } => {
            let liquid = w.model(res).available_amount as f64 * 0.9;
            let power = w.borrowing_power(user, res).min(liquid);
            let amount = ((power * pct as f64 / 100.0) as u64).max(1);
            let health = w
                .ctx
                .health_accounts(&w.obligations[user], &[&w.reserves[res]]);
            let ix = ix::borrow(
                &w.users[user].pubkey(),
                &w.reserves[res].keys,
                &w.obligations[user],
                &w.wallets[user][res],
                amount,
                health,
            );
            let model = w.model(res);
            (
                vec![ix],
                user,
                Expect {
                    user,
                    res,
                    delta: amount as i128,
                    must_succeed: false,
                    model,
                },
            )
        }
        Op::Repay {
            payer,
            owner,
            res,
            pct,
        } => {
            // Mostly an obligation that has a debt there.
            let owner = w.pick(owner, |w, u| {
                w.position(u, res, PositionKind::Debt).1 > FX_ZERO
            });
            let debt = w.debt(owner, res);
            let amount = match pct {
                Some(p) => (debt as u128 * p as u128 / 100).max(1) as u64,
                None => u64::MAX,
            };
            let paid = amount.min(debt);
            let bal = w.ctx.token_balance(&w.wallets[payer][res]).unwrap();
            let has_debt = w.position(owner, res, PositionKind::Debt).1 > FX_ZERO;
            let ix = ix::repay(
                &w.users[payer].pubkey(),
                &w.reserves[res].keys,
                &w.obligations[owner],
                &w.wallets[payer][res],
                amount,
            );
            let model = w.model(res);
            let must = has_debt && paid <= bal;
            (
                vec![ix],
                payer,
                Expect {
                    user: payer,
                    res,
                    delta: -(paid as i128),
                    must_succeed: must,
                    model,
                },
            )
        }
    };

    let accounts = w.tracked();
    let before = w.ctx.snapshot(&accounts);
    let balances = w.balances();
    let (shares_before, _) = w.position(expect.user, expect.res, PositionKind::Collateral);
    match w.ctx.chain.send(&ixs, &[&w.users[signer]]) {
        Ok(_) => {
            stats[0] += 1;
            let after = w.balances();
            for (u, (b, a)) in balances.iter().zip(&after).enumerate() {
                for r in 0..2 {
                    let want = if (u, r) == (expect.user, expect.res) {
                        b[r] as i128 + expect.delta
                    } else {
                        b[r] as i128
                    };
                    assert_eq!(
                        a[r] as i128, want,
                        "[{label}] wallet of user {u}, reserve {r}"
                    );
                }
            }
            // The handler accrued exactly as the host engine does.
            let on_chain = w.ctx.reserve(&w.reserves[expect.res]);
            assert_eq!(
                on_chain.borrow_index.get(),
                expect.model.borrow_index.get(),
                "[{label}] index"
            );
            assert_eq!(
                on_chain.protocol_fees.get(),
                expect.model.protocol_fees.get(),
                "[{label}] fees"
            );
            assert_eq!(on_chain.last_update_ts, w.now(), "[{label}] accrued to now");
            if let Op::Deposit { user, res, .. } = *op {
                let minted = shares_for_deposit(
                    (-expect.delta) as u64,
                    expect.model.supply().unwrap(),
                    expect.model.deposit_shares,
                )
                .unwrap();
                let (now, _) = w.position(user, res, PositionKind::Collateral);
                assert_eq!(now - shares_before, minted, "[{label}] shares minted");
            }
        }
        Err(e) => {
            stats[1] += 1;
            assert!(
                !expect.must_succeed,
                "[{label}] must succeed, failed: {:?}\n{}",
                e.err,
                e.meta.logs.join("\n")
            );
            w.ctx.assert_unchanged(&label, &before);
        }
    }
    w.check_books(&label);
}

/// 24 cases from a fixed seed, so `make test` is reproducible;
/// `PROP_ACCOUNTING_SEED=N` explores another (a random seed once found the
/// residual-supply rule missing from this model: see `Op::Deposit`).
fn config() -> Config {
    let seed = std::env::var("PROP_ACCOUNTING_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(19);
    Config {
        cases: 24,
        max_shrink_iters: 256,
        failure_persistence: None,
        rng_seed: proptest::test_runner::RngSeed::Fixed(seed),
        ..Config::default()
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn books_balance_after_every_operation(
        swap in any::<bool>(),
        ops in proptest::collection::vec(op(), 10..=20),
    ) {
        let tps = if swap {
            [TOKEN_2022_PROGRAM_ID, TOKEN_PROGRAM_ID]
        } else {
            [TOKEN_PROGRAM_ID, TOKEN_2022_PROGRAM_ID]
        };
        let mut w = World::new(tps);
        w.check_books("setup");
        // Liquidity to borrow from: user 0 supplies USDC, user 1 SOL.
        let mut stats = [0u32; 2];
        run(&mut w, &Op::Deposit { user: 0, res: 1, pct: 50 }, 0, &mut stats);
        run(&mut w, &Op::Deposit { user: 1, res: 0, pct: 50 }, 0, &mut stats);
        for (step, op) in ops.iter().enumerate() {
            run(&mut w, op, step + 1, &mut stats);
        }
        println!("[prop_accounting] {} ok, {} failed", stats[0], stats[1]);
    }
}

/// The sequence a random seed shrank to: user 1's SOL deposit is the
/// reserve's only share; user 0 borrows it, repays after a second, user 1
/// withdraws everything, and the second's interest (less the protocol's
/// cut) is left with no share to own it. The next deposit moves it to the
/// protocol's fees (`deposit`'s residual rule), which the model here did
/// not know: it expected fees of 0.08 units where the chain holds 1.
#[test]
fn a_residual_supply_goes_to_fees_on_the_next_deposit() {
    let mut w = World::new([TOKEN_PROGRAM_ID, TOKEN_2022_PROGRAM_ID]);
    let mut stats = [0u32; 2];
    run(
        &mut w,
        &Op::Deposit {
            user: 0,
            res: 1,
            pct: 50,
        },
        0,
        &mut stats,
    );
    run(
        &mut w,
        &Op::Deposit {
            user: 1,
            res: 0,
            pct: 50,
        },
        0,
        &mut stats,
    );
    let ops = [
        Op::Borrow {
            user: 0,
            res: 0,
            pct: 1,
        },
        Op::Warp { secs: 1 },
        Op::Repay {
            payer: 0,
            owner: 0,
            res: 0,
            pct: None,
        },
        Op::Withdraw {
            user: 1,
            res: 0,
            pct: None,
        },
        Op::Deposit {
            user: 0,
            res: 0,
            pct: 1,
        },
    ];
    for (step, op) in ops.iter().enumerate() {
        run(&mut w, op, step + 1, &mut stats);
    }
    let r = w.ctx.reserve(&w.reserves[0]);
    assert!(
        r.protocol_fees.get() >= Fx::from_num(1),
        "the residual went to fees"
    );
    assert_eq!(stats[1], 0, "every operation succeeded");
}
