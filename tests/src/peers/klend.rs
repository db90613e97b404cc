//! Kamino Lend (klend) 1.7.x behind [`Protocol`].
//!
//! Instruction data are Anchor's (`sha256("global:<name>")[..8]` then the
//! Borsh arguments); account orders follow klend 1.7.2's `#[derive(Accounts)]`
//! structs, as ported from `../shared/peers/recipe/klend.mjs`.
//!
//! klend's `init_lending_market` and `init_reserve` fail in LiteSVM ("Access
//! violation in stack frame": they build the 4,656-byte `LendingMarket` and
//! the 8,616-byte `Reserve` defaults on the 4 KB stack), so the market and
//! each reserve with its vaults are written directly, with klend 1.7.2's
//! layouts, as those two instructions (plus `update_reserve_config`) would
//! leave them. Everything after that (user metadata, obligations, refreshes,
//! deposits, loans, liquidations) goes through the program.
//!
//! klend 1.7.x reads legacy Pyth v2 price accounts (3,312 bytes, owned by
//! [`PYTH_LEGACY_ID`]), written here by [`pyth_legacy_price`].

use solana_instruction::{AccountMeta, Instruction};

use super::{
    first_accepted, mint_data, must, new_address, peer_context, pyth_units, set_account,
    token_account_data, Cost, Protocol, KLEND_ID, PYTH_LEGACY_ID, START_TS, SYSTEM_PROGRAM,
    SYSVAR_INSTRUCTIONS, SYSVAR_RENT,
};
use crate::{Address, Keypair, Signer, TestContext, TOKEN_PROGRAM_ID};

/// Size of klend's `LendingMarket` account after its discriminator.
pub const LENDING_MARKET_SIZE: usize = 4656;
/// Size of klend's `Reserve` account after its discriminator.
pub const RESERVE_SIZE: usize = 8616;
/// Size of klend's `ReserveConfig`.
pub const RESERVE_CONFIG_SIZE: usize = 912;
/// klend's "no account" marker inside configurations.
pub const NULL_PUBKEY: Address =
    Address::from_str_const("nu11111111111111111111111111111111111111111");

/// `sha256("account:LendingMarket")[..8]`.
const DISC_LENDING_MARKET: [u8; 8] = [246, 114, 50, 98, 72, 157, 28, 120];
/// `sha256("account:Reserve")[..8]`.
const DISC_RESERVE: [u8; 8] = [43, 242, 204, 202, 26, 247, 59, 127];

/// Anchor instruction discriminators, `sha256("global:<name>")[..8]`.
mod disc {
    pub const INIT_USER_METADATA: [u8; 8] = [117, 169, 176, 69, 197, 23, 15, 162];
    pub const INIT_OBLIGATION: [u8; 8] = [251, 10, 231, 76, 27, 11, 159, 96];
    pub const REFRESH_RESERVE: [u8; 8] = [2, 218, 138, 235, 79, 201, 25, 102];
    pub const REFRESH_OBLIGATION: [u8; 8] = [33, 132, 147, 228, 151, 192, 72, 89];
    pub const DEPOSIT: [u8; 8] = [129, 199, 4, 2, 222, 39, 26, 46];
    pub const BORROW: [u8; 8] = [121, 127, 18, 204, 73, 245, 225, 65];
    pub const REPAY: [u8; 8] = [145, 178, 13, 225, 76, 240, 147, 72];
    pub const WITHDRAW: [u8; 8] = [75, 93, 93, 220, 34, 150, 218, 196];
    pub const LIQUIDATE: [u8; 8] = [177, 71, 154, 188, 226, 133, 74, 55];
}

fn pda(seeds: &[&[u8]]) -> (Address, u8) {
    Address::find_program_address(seeds, &KLEND_ID)
}

fn w(a: Address) -> AccountMeta {
    AccountMeta::new(a, false)
}
fn r(a: Address) -> AccountMeta {
    AccountMeta::new_readonly(a, false)
}
fn ws(a: Address) -> AccountMeta {
    AccountMeta::new(a, true)
}
fn rs(a: Address) -> AccountMeta {
    AccountMeta::new_readonly(a, true)
}
/// Anchor's `Option<AccountInfo>` = `None`: the program id itself.
fn none() -> AccountMeta {
    r(KLEND_ID)
}

fn ix(d: [u8; 8], accounts: Vec<AccountMeta>, args: &[u8]) -> Instruction {
    let mut data = d.to_vec();
    data.extend_from_slice(args);
    Instruction {
        program_id: KLEND_ID,
        accounts,
        data,
    }
}

/// A legacy Pyth v2 price account (3,312 bytes), status Trading, published
/// at `ts` / `slot`, with the EMA equal to the price.
pub fn pyth_legacy_price(price: i64, conf: u64, expo: i32, ts: i64, slot: u64) -> Vec<u8> {
    let mut d = vec![0u8; 3312];
    let put = |d: &mut Vec<u8>, at: usize, b: &[u8]| d[at..at + b.len()].copy_from_slice(b);
    put(&mut d, 0, &0xa1b2_c3d4u32.to_le_bytes()); // magic
    put(&mut d, 4, &2u32.to_le_bytes()); // version
    put(&mut d, 8, &3u32.to_le_bytes()); // account type: price
    put(&mut d, 12, &3312u32.to_le_bytes()); // size
    put(&mut d, 16, &1u32.to_le_bytes()); // price type: price
    put(&mut d, 20, &expo.to_le_bytes());
    put(&mut d, 24, &1u32.to_le_bytes()); // num components
    put(&mut d, 28, &1u32.to_le_bytes()); // num quoters
    put(&mut d, 32, &slot.to_le_bytes()); // last slot
    put(&mut d, 40, &slot.to_le_bytes()); // valid slot
    put(&mut d, 48, &price.to_le_bytes()); // ema price: val, numer, denom
    put(&mut d, 56, &price.to_le_bytes());
    put(&mut d, 64, &1i64.to_le_bytes());
    put(&mut d, 72, &(conf as i64).to_le_bytes()); // ema conf: val, numer, denom
    put(&mut d, 80, &(conf as i64).to_le_bytes());
    put(&mut d, 88, &1i64.to_le_bytes());
    put(&mut d, 96, &ts.to_le_bytes()); // timestamp
    d[104] = 1; // min publishers
    put(&mut d, 176, &slot.to_le_bytes()); // previous slot, price, conf, timestamp
    put(&mut d, 184, &price.to_le_bytes());
    put(&mut d, 192, &conf.to_le_bytes());
    put(&mut d, 200, &ts.to_le_bytes());
    put(&mut d, 208, &price.to_le_bytes()); // aggregate: price, conf, status, corp act, slot
    put(&mut d, 216, &conf.to_le_bytes());
    put(&mut d, 224, &1u32.to_le_bytes()); // Trading
    put(&mut d, 232, &slot.to_le_bytes());
    d
}

/// klend 1.7.2's `ReserveConfig` (912 bytes) for a regular reserve priced
/// by `pyth`: LTV / LT as given, borrow factor 100%, protocol take rate 10%,
/// liquidation bonus 2% to 5%, no fees, no limits, the borrow curve of
/// Ballast's `test_config` (0.5% at 0, 8.5% at 80%, 68.5% at 100%
/// utilisation), price max age 600 s, TWAP, Scope and Switchboard off.
pub fn reserve_config(ltv_pct: u8, lt_pct: u8, pyth: &Address, name: &str) -> Vec<u8> {
    let mut c: Vec<u8> = vec![];
    c.extend([0u8, 0]); // status Active, asset tier Regular
    c.extend([0u8; 2]); // host_fixed_interest_rate_bps
    c.extend([0u8; 2 + 8]); // reserved_2, reserved_3
    c.extend([10u8, 50, ltv_pct, lt_pct]); // protocol take rate, protocol liq fee, LTV, LT
    c.extend(200u16.to_le_bytes()); // min liquidation bonus bps
    c.extend(500u16.to_le_bytes()); // max liquidation bonus bps
    c.extend(50u16.to_le_bytes()); // bad debt liquidation bonus bps
    c.extend(259_200u64.to_le_bytes()); // deleveraging_margin_call_period_secs
    c.extend(7_200u64.to_le_bytes()); // deleveraging_threshold_slots_per_bps
    c.extend([0u8; 8 + 8 + 8]); // borrow fee, flash loan fee, padding
    let mut points = vec![(0u32, 50u32), (8_000, 850), (10_000, 6_850)];
    while points.len() < 11 {
        points.push((10_000, 6_850));
    }
    for (u, rate) in points {
        c.extend(u.to_le_bytes());
        c.extend(rate.to_le_bytes());
    }
    c.extend(100u64.to_le_bytes()); // borrow_factor_pct
    c.extend(u64::MAX.to_le_bytes()); // deposit_limit
    c.extend(u64::MAX.to_le_bytes()); // borrow_limit
    let mut nm = [0u8; 32];
    nm[..name.len()].copy_from_slice(name.as_bytes());
    c.extend(nm); // token_info.name
    c.extend([0u8; 24]); // heuristic off
    c.extend(0u64.to_le_bytes()); // max_twap_divergence_bps: off
    c.extend(600u64.to_le_bytes()); // max_age_price_seconds
    c.extend(0u64.to_le_bytes()); // max_age_twap_seconds
    c.extend(NULL_PUBKEY.as_ref()); // scope: off
    c.extend([0xffu8; 16]); // scope price and twap chains: none
    c.extend([0u8; 64]); // switchboard: off
    c.extend(pyth.as_ref()); // pyth price account
    c.extend([0u8; 1 + 7 + 8 * 19]); // block_price_usage, reserved, padding
    c.extend([0u8; 64]); // deposit and debt withdrawal caps: off
    c.extend([0u8; 20 + 1 + 1 + 2]); // elevation groups, flags, reserved
    c.extend(u64::MAX.to_le_bytes()); // borrow_limit_outside_elevation_group
    c.extend([0u8; 8 * 32]); // borrow limits against this collateral in groups
    assert_eq!(c.len(), RESERVE_CONFIG_SIZE, "klend ReserveConfig size");
    c
}

/// A klend reserve and its accounts.
#[derive(Clone, Copy, Debug)]
pub struct KReserve {
    /// The reserve account.
    pub reserve: Address,
    /// The liquidity mint.
    pub mint: Address,
    /// Its legacy Pyth price account.
    pub oracle: Address,
    /// The liquidity supply vault.
    pub liq_supply: Address,
    /// The fee vault.
    pub fee_recv: Address,
    /// The collateral (cToken) mint.
    pub coll_mint: Address,
    /// The collateral supply vault.
    pub coll_supply: Address,
    /// Mint decimals.
    pub decimals: u8,
}

/// A klend obligation and the reserves of its positions, in the program's
/// order (deposits, then borrows).
#[derive(Clone, Debug)]
pub struct KObligation {
    /// The obligation PDA.
    pub obligation: Address,
    /// Its collateral reserves.
    pub deposits: Vec<KReserve>,
    /// Its debt reserves.
    pub borrows: Vec<KReserve>,
}

/// A klend lending market on a VM that also holds Ballast and Solend.
pub struct KlendMarket {
    /// The chain.
    pub ctx: TestContext,
    /// The market owner.
    pub admin: Keypair,
    /// The market account.
    pub market: Address,
    /// The market authority PDA (`lma`).
    pub lma: Address,
}

impl KlendMarket {
    /// A market written directly with the values `init_lending_market`
    /// sets (klend 1.7.2's `LendingMarket::default()` plus version, bump,
    /// owner, quote currency, close factor 20%, minimum net value).
    pub fn create(mut ctx: TestContext) -> Self {
        let admin = ctx.funded_user(100);
        let market = new_address();
        let (lma, bump) = pda(&[b"lma", market.as_ref()]);
        let mut d = vec![0u8; LENDING_MARKET_SIZE + 8];
        d[..8].copy_from_slice(&DISC_LENDING_MARKET);
        let o = 8;
        let put = |d: &mut Vec<u8>, at: usize, b: &[u8]| d[at..at + b.len()].copy_from_slice(b);
        put(&mut d, o, &1u64.to_le_bytes()); // version
        put(&mut d, o + 8, &u64::from(bump).to_le_bytes());
        put(&mut d, o + 16, admin.pubkey().as_ref()); // lending_market_owner
        put(&mut d, o + 80, b"USD"); // quote currency
        d[o + 118] = 20; // liquidation_max_debt_close_factor_pct
        d[o + 119] = 95; // insolvency_risky_unhealthy_ltv_pct
        put(&mut d, o + 120, &2u64.to_le_bytes());
        put(&mut d, o + 128, &500_000u64.to_le_bytes());
        put(&mut d, o + 136, &50_000_000u64.to_le_bytes());
        put(&mut d, o + 144, &45_000_000u64.to_le_bytes());
        // min_net_value_in_obligation_sf = 0.000001 in U68F60
        let mnv: u128 = (1u128 << 60) / 1_000_000;
        put(&mut d, o + 3216, &mnv.to_le_bytes());
        set_account(&mut ctx, &market, KLEND_ID, d);
        Self {
            ctx,
            admin,
            market,
            lma,
        }
    }

    /// `refresh_reserve` of `res`.
    pub fn refresh_reserve_ix(&self, res: &KReserve) -> Instruction {
        ix(
            disc::REFRESH_RESERVE,
            vec![
                w(res.reserve),
                r(self.market),
                r(res.oracle),
                none(),
                none(),
                none(),
            ],
            &[],
        )
    }

    /// `refresh_obligation` of `ob` as it stands.
    pub fn refresh_obligation_ix(&self, ob: &KObligation) -> Instruction {
        let mut accounts = vec![r(self.market), w(ob.obligation)];
        accounts.extend(ob.deposits.iter().map(|x| r(x.reserve)));
        accounts.extend(ob.borrows.iter().map(|x| r(x.reserve)));
        ix(disc::REFRESH_OBLIGATION, accounts, &[])
    }

    /// The candidate transactions for `action` on `ob` touching `target`,
    /// smallest first: the instruction alone; after a refresh of `target`;
    /// after refreshes of every reserve of the obligation (and `target`) and
    /// of the obligation.
    fn variants(
        &self,
        ob: &KObligation,
        target: &[KReserve],
        name: &str,
        action: Instruction,
    ) -> Vec<(String, Vec<Instruction>)> {
        // The other reserves of the obligation first: klend wants the
        // refreshes of the instruction's own reserves right before
        // `refresh_obligation`, in the instruction's order.
        let mut all: Vec<KReserve> = vec![];
        for x in ob.deposits.iter().chain(&ob.borrows) {
            if !all.iter().any(|y| y.reserve == x.reserve)
                && !target.iter().any(|t| t.reserve == x.reserve)
            {
                all.push(*x);
            }
        }
        for x in target {
            if !all.iter().any(|y| y.reserve == x.reserve) {
                all.push(*x);
            }
        }
        let mut targeted: Vec<Instruction> =
            target.iter().map(|x| self.refresh_reserve_ix(x)).collect();
        targeted.push(action.clone());
        let mut full: Vec<Instruction> = all.iter().map(|x| self.refresh_reserve_ix(x)).collect();
        full.push(self.refresh_obligation_ix(ob));
        full.push(action.clone());
        vec![
            (name.to_string(), vec![action]),
            (
                format!("refresh_reserve x{} + {name}", target.len()),
                targeted,
            ),
            (
                format!(
                    "refresh_reserve x{} + refresh_obligation + {name}",
                    all.len()
                ),
                full,
            ),
        ]
    }

    fn send(
        &mut self,
        signer: &Keypair,
        variants: Vec<(String, Vec<Instruction>)>,
    ) -> Result<Cost, String> {
        first_accepted(&mut self.ctx, &[signer], variants)
    }
}

fn push_unique(v: &mut Vec<KReserve>, x: &KReserve) {
    if !v.iter().any(|y| y.reserve == x.reserve) {
        v.push(*x);
    }
}

impl Protocol for KlendMarket {
    type Reserve = KReserve;
    type Obligation = KObligation;
    const NAME: &'static str = "klend";

    fn new() -> Self {
        let mut ctx = peer_context();
        ctx.set_time(START_TS);
        Self::create(ctx)
    }

    /// The reserve and its vaults written directly, as `init_reserve` +
    /// `update_reserve_config` would leave them (klend 1.7.2 layout), LTV
    /// 75% and LT 80% like Ballast's `test_config`; last update stale.
    fn add_reserve(&mut self, decimals: u8, price: f64) -> KReserve {
        let mint = self
            .ctx
            .chain
            .create_mint(&TOKEN_PROGRAM_ID, decimals)
            .expect("mint");
        let seeds = |s: &[u8]| pda(&[s, self.market.as_ref(), mint.as_ref()]).0;
        let res = KReserve {
            reserve: new_address(),
            mint,
            oracle: new_address(),
            liq_supply: seeds(b"reserve_liq_supply"),
            fee_recv: seeds(b"fee_receiver"),
            coll_mint: seeds(b"reserve_coll_mint"),
            coll_supply: seeds(b"reserve_coll_supply"),
            decimals,
        };
        self.set_price(&res, price);
        let lma = self.lma;
        let ctx = &mut self.ctx;
        set_account(
            ctx,
            &res.liq_supply,
            TOKEN_PROGRAM_ID,
            token_account_data(&mint, &lma, 0),
        );
        set_account(
            ctx,
            &res.fee_recv,
            TOKEN_PROGRAM_ID,
            token_account_data(&mint, &lma, 0),
        );
        set_account(
            ctx,
            &res.coll_mint,
            TOKEN_PROGRAM_ID,
            mint_data(decimals, &lma, 0),
        );
        set_account(
            ctx,
            &res.coll_supply,
            TOKEN_PROGRAM_ID,
            token_account_data(&res.coll_mint, &lma, 0),
        );
        let name = format!("T{decimals}");
        let cfg = reserve_config(75, 80, &res.oracle, &name);
        let slot = self.ctx.clock().slot;
        let mut d = vec![0u8; RESERVE_SIZE + 8];
        d[..8].copy_from_slice(&DISC_RESERVE);
        let o = 8;
        let put = |d: &mut Vec<u8>, at: usize, b: &[u8]| d[at..at + b.len()].copy_from_slice(b);
        put(&mut d, o, &1u64.to_le_bytes()); // version
        put(&mut d, o + 8, &slot.to_le_bytes()); // last_update.slot
        d[o + 16] = 1; // last_update.stale
        put(&mut d, o + 24, self.market.as_ref());
        let l = o + 120; // liquidity
        put(&mut d, l, mint.as_ref());
        put(&mut d, l + 32, res.liq_supply.as_ref());
        put(&mut d, l + 64, res.fee_recv.as_ref());
        put(&mut d, l + 144, &u64::from(decimals).to_le_bytes());
        put(&mut d, l + 168, &(1u128 << 60).to_le_bytes()); // cumulative borrow rate 1.0
        put(&mut d, l + 280, TOKEN_PROGRAM_ID.as_ref());
        let c = o + 2552; // collateral
        put(&mut d, c, res.coll_mint.as_ref());
        put(&mut d, c + 40, res.coll_supply.as_ref());
        put(&mut d, o + 4848, &cfg);
        set_account(&mut self.ctx, &res.reserve, KLEND_ID, d);
        res
    }

    fn units(&self, r: &KReserve, whole: f64) -> u64 {
        (whole * 10f64.powi(i32::from(r.decimals))).round() as u64
    }

    fn funded_user(&mut self) -> Keypair {
        self.ctx.funded_user(10)
    }

    fn token_account(&mut self, r: &KReserve, owner: &Address, amount: u64) -> Address {
        let ta = self
            .ctx
            .chain
            .create_token_account(&r.mint, owner)
            .expect("token account");
        if amount > 0 {
            self.ctx
                .chain
                .mint_to(&r.mint, &ta, amount)
                .expect("mint_to");
        }
        ta
    }

    fn open_obligation(&mut self, owner: &Keypair) -> KObligation {
        let o = owner.pubkey();
        let zero = Address::default();
        let meta = pda(&[b"user_meta", o.as_ref()]).0;
        let obligation = pda(&[
            &[0],
            &[0],
            o.as_ref(),
            self.market.as_ref(),
            zero.as_ref(),
            zero.as_ref(),
        ])
        .0;
        let ixs = [
            ix(
                disc::INIT_USER_METADATA,
                vec![
                    rs(o),
                    ws(o),
                    w(meta),
                    none(),
                    r(SYSVAR_RENT),
                    r(SYSTEM_PROGRAM),
                ],
                zero.as_ref(),
            ),
            ix(
                disc::INIT_OBLIGATION,
                vec![
                    rs(o),
                    ws(o),
                    w(obligation),
                    r(self.market),
                    r(zero),
                    r(zero),
                    r(meta),
                    r(SYSVAR_RENT),
                    r(SYSTEM_PROGRAM),
                ],
                &[0, 0],
            ),
        ];
        must(&mut self.ctx, "klend init_obligation", &ixs, &[owner]);
        KObligation {
            obligation,
            deposits: vec![],
            borrows: vec![],
        }
    }

    fn warp(&mut self, seconds: i64) {
        self.ctx.warp_seconds(seconds);
    }

    fn set_price(&mut self, r: &KReserve, price: f64) {
        let (p, conf) = pyth_units(price);
        let clock = self.ctx.clock();
        let data = pyth_legacy_price(p, conf, -8, clock.unix_timestamp, clock.slot);
        set_account(&mut self.ctx, &r.oracle, PYTH_LEGACY_ID, data);
    }

    fn deposit(
        &mut self,
        owner: &Keypair,
        ob: &mut KObligation,
        res: &KReserve,
        src: &Address,
        amount: u64,
    ) -> Result<Cost, String> {
        let action = ix(
            disc::DEPOSIT,
            vec![
                ws(owner.pubkey()),
                w(ob.obligation),
                r(self.market),
                r(self.lma),
                w(res.reserve),
                w(res.mint),
                w(res.liq_supply),
                w(res.coll_mint),
                w(res.coll_supply),
                w(*src),
                none(),
                r(TOKEN_PROGRAM_ID),
                r(TOKEN_PROGRAM_ID),
                r(SYSVAR_INSTRUCTIONS),
            ],
            &amount.to_le_bytes(),
        );
        let v = self.variants(ob, &[*res], "deposit", action);
        let cost = self.send(owner, v)?;
        push_unique(&mut ob.deposits, res);
        Ok(cost)
    }

    fn withdraw(
        &mut self,
        owner: &Keypair,
        ob: &mut KObligation,
        res: &KReserve,
        dst: &Address,
        amount: u64,
    ) -> Result<Cost, String> {
        let action = ix(
            disc::WITHDRAW,
            vec![
                ws(owner.pubkey()),
                w(ob.obligation),
                r(self.market),
                r(self.lma),
                w(res.reserve),
                w(res.mint),
                w(res.coll_supply),
                w(res.coll_mint),
                w(res.liq_supply),
                w(*dst),
                none(),
                r(TOKEN_PROGRAM_ID),
                r(TOKEN_PROGRAM_ID),
                r(SYSVAR_INSTRUCTIONS),
            ],
            &amount.to_le_bytes(),
        );
        let v = self.variants(ob, &[*res], "withdraw", action);
        self.send(owner, v)
    }

    fn borrow(
        &mut self,
        owner: &Keypair,
        ob: &mut KObligation,
        res: &KReserve,
        dst: &Address,
        amount: u64,
    ) -> Result<Cost, String> {
        let action = ix(
            disc::BORROW,
            vec![
                rs(owner.pubkey()),
                w(ob.obligation),
                r(self.market),
                r(self.lma),
                w(res.reserve),
                w(res.mint),
                w(res.liq_supply),
                w(res.fee_recv),
                w(*dst),
                none(),
                r(TOKEN_PROGRAM_ID),
                r(SYSVAR_INSTRUCTIONS),
            ],
            &amount.to_le_bytes(),
        );
        // refresh_obligation lists the positions before the borrow.
        let v = self.variants(ob, &[*res], "borrow", action);
        let cost = self.send(owner, v)?;
        push_unique(&mut ob.borrows, res);
        Ok(cost)
    }

    fn repay(
        &mut self,
        owner: &Keypair,
        ob: &mut KObligation,
        res: &KReserve,
        src: &Address,
        amount: u64,
    ) -> Result<Cost, String> {
        let action = ix(
            disc::REPAY,
            vec![
                rs(owner.pubkey()),
                w(ob.obligation),
                r(self.market),
                w(res.reserve),
                w(res.mint),
                w(res.liq_supply),
                w(*src),
                r(TOKEN_PROGRAM_ID),
                r(SYSVAR_INSTRUCTIONS),
            ],
            &amount.to_le_bytes(),
        );
        let v = self.variants(ob, &[*res], "repay", action);
        self.send(owner, v)
    }

    fn liquidate(
        &mut self,
        liquidator: &Keypair,
        ob: &mut KObligation,
        debt: &KReserve,
        coll: &KReserve,
        src: &Address,
    ) -> Result<Cost, String> {
        let l = liquidator.pubkey();
        let dst_coll = self
            .ctx
            .chain
            .create_token_account(&coll.coll_mint, &l)
            .expect("cToken account");
        let dst_liq = self.token_account(coll, &l, 0);
        let mut args = u64::MAX.to_le_bytes().to_vec(); // liquidity_amount: capped by the close factor
        args.extend(0u64.to_le_bytes()); // min_acceptable_received_liquidity_amount
        args.extend(0u64.to_le_bytes()); // max_allowed_ltv_override_percent
        let action = ix(
            disc::LIQUIDATE,
            vec![
                rs(l),
                w(ob.obligation),
                r(self.market),
                r(self.lma),
                w(debt.reserve),
                w(debt.mint),
                w(debt.liq_supply),
                w(coll.reserve),
                w(coll.mint),
                w(coll.coll_mint),
                w(coll.coll_supply),
                w(coll.liq_supply),
                w(coll.fee_recv),
                w(*src),
                w(dst_coll),
                w(dst_liq),
                r(TOKEN_PROGRAM_ID),
                r(TOKEN_PROGRAM_ID),
                r(TOKEN_PROGRAM_ID),
                r(SYSVAR_INSTRUCTIONS),
            ],
            &args,
        );
        // klend checks the refreshes of the withdraw reserve, then the repay
        // reserve, right before `refresh_obligation`.
        let v = self.variants(ob, &[*coll, *debt], "liquidate", action);
        self.send(liquidator, v)
    }
}
