//! Save/Solend token-lending 2.0.2 behind [`Protocol`].
//!
//! Instructions are the SPL token-lending layout of solendprotocol's
//! `token-lending/sdk/src/instruction.rs` (a one-byte tag, then the
//! arguments): InitLendingMarket = 0, InitReserve = 2, RefreshReserve = 3,
//! InitObligation = 6, RefreshObligation = 7, BorrowObligationLiquidity =
//! 10, RepayObligationLiquidity = 11, DepositReserveLiquidityAndObligation-
//! Collateral = 14, WithdrawObligationCollateralAndRedeemReserveCollateral
//! = 15, LiquidateObligationAndRedeemReserveCollateral = 17; each was checked
//! against the `Instruction: ...` line the program logs.
//!
//! Unlike klend's, Solend's init instructions run in LiteSVM, so the market,
//! reserves and obligations are created by the program itself (their
//! accounts pre-allocated, as the SDK does with `create_account`). Solend
//! 2.0.2 picks an oracle's kind by its owner; its reserves here read Pyth
//! pull `PriceUpdateV2` accounts (owner `rec5EKMG...`), written with the same
//! code as Ballast's ([`crate::PythPrice`]).

use std::collections::HashMap;

use solana_instruction::{AccountMeta, Instruction};

use super::{
    first_accepted, must, new_address, peer_context, pyth_units, set_account, Cost, Protocol,
    PYTH_LEGACY_ID, SOLEND_ID, START_TS, SYSVAR_RENT,
};
use crate::{Address, Keypair, PythPrice, Signer, TestContext, TOKEN_PROGRAM_ID};

/// Size of Solend's `LendingMarket` account.
pub const LENDING_MARKET_LEN: usize = 290;
/// Size of Solend's `Reserve` account.
pub const RESERVE_LEN: usize = 619;
/// Size of Solend's `Obligation` account.
pub const OBLIGATION_LEN: usize = 1300;
/// Solend's "no oracle" marker.
pub const NULL_PUBKEY: Address =
    Address::from_str_const("nu11111111111111111111111111111111111111111");
/// The Switchboard v2 program, recorded in the market (unused: no reserve
/// here has a Switchboard feed).
pub const SWITCHBOARD_V2_ID: Address =
    Address::from_str_const("SW1TCH7qEPTdLsDHRgPuMQjbQxKdH2aBStViMFnt64f");
/// Liquidity the market owner must deposit when creating a reserve (base
/// units; Solend refuses an empty reserve).
pub const INIT_LIQUIDITY: u64 = 1_000;

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

fn ix(tag: u8, accounts: Vec<AccountMeta>, args: &[u8]) -> Instruction {
    let mut data = vec![tag];
    data.extend_from_slice(args);
    Instruction {
        program_id: SOLEND_ID,
        accounts,
        data,
    }
}

/// Solend 2.0.2's `InitReserve` data: `liquidity_amount`, then the
/// `ReserveConfig` in its pack order. LTV 75%, LT 80% (max 80%), bonus 5%
/// (max 5%) like Ballast's `test_config` and `SOLEND_LIKE` liquidation;
/// borrow curve 0% / 8% at 80% / 68% at 100% utilisation (Solend's rates
/// are whole percents: Ballast's is 0.5% / 8.5% / 68.5%); protocol take rate
/// 10%; no fees, no limits, no borrow weight, no extra oracle.
pub fn init_reserve_data(liquidity_amount: u64, fee_receiver: &Address) -> Vec<u8> {
    let mut d = vec![2u8];
    d.extend(liquidity_amount.to_le_bytes());
    d.extend([
        80u8, // optimal_utilization_rate
        100,  // max_utilization_rate
        75,   // loan_to_value_ratio
        5,    // liquidation_bonus
        80,   // liquidation_threshold
        0,    // min_borrow_rate
        8,    // optimal_borrow_rate
        68,   // max_borrow_rate
    ]);
    d.extend(68u64.to_le_bytes()); // super_max_borrow_rate
    d.extend(0u64.to_le_bytes()); // borrow_fee_wad
    d.extend(0u64.to_le_bytes()); // flash_loan_fee_wad
    d.push(0); // host_fee_percentage
    d.extend(u64::MAX.to_le_bytes()); // deposit_limit
    d.extend(u64::MAX.to_le_bytes()); // borrow_limit
    d.extend(fee_receiver.as_ref());
    d.push(0); // protocol_liquidation_fee (deca bps)
    d.push(10); // protocol_take_rate
    d.extend(0u64.to_le_bytes()); // added_borrow_weight_bps
    d.push(0); // reserve_type: Regular
    d.push(5); // max_liquidation_bonus
    d.push(80); // max_liquidation_threshold
    d.extend(0i64.to_le_bytes()); // scaled_price_offset_bps
    d.push(0); // extra_oracle_pubkey: None
    d.extend(u64::MAX.to_le_bytes()); // attributed_borrow_limit_open
    d.extend(u64::MAX.to_le_bytes()); // attributed_borrow_limit_close
    d
}

/// A Solend reserve and its accounts.
#[derive(Clone, Copy, Debug)]
pub struct SReserve {
    /// The reserve account.
    pub reserve: Address,
    /// The liquidity mint.
    pub mint: Address,
    /// Its `PriceUpdateV2` account.
    pub oracle: Address,
    /// The liquidity supply.
    pub liq_supply: Address,
    /// The fee receiver.
    pub fee_recv: Address,
    /// The collateral (cToken) mint.
    pub coll_mint: Address,
    /// The collateral supply.
    pub coll_supply: Address,
    /// Mint decimals.
    pub decimals: u8,
}

/// A Solend obligation and the reserves of its positions, in the program's
/// order (deposits, then borrows).
#[derive(Clone, Debug)]
pub struct SObligation {
    /// The obligation account.
    pub obligation: Address,
    /// Its collateral reserves.
    pub deposits: Vec<SReserve>,
    /// Its debt reserves.
    pub borrows: Vec<SReserve>,
}

/// A Solend lending market on a VM that also holds Ballast and klend.
pub struct SolendMarket {
    /// The chain.
    pub ctx: TestContext,
    /// The market owner.
    pub admin: Keypair,
    /// The market account.
    pub market: Address,
    /// The market authority PDA.
    pub lma: Address,
    /// cToken accounts made for (owner, reserve).
    ctokens: HashMap<(Address, Address), Address>,
}

impl SolendMarket {
    /// Creates a market with `InitLendingMarket` (quote currency USD).
    pub fn create(mut ctx: TestContext) -> Self {
        let admin = ctx.funded_user(100);
        let market = new_address();
        set_account(&mut ctx, &market, SOLEND_ID, vec![0; LENDING_MARKET_LEN]);
        let mut args = admin.pubkey().as_ref().to_vec();
        let mut quote = [0u8; 32];
        quote[..3].copy_from_slice(b"USD");
        args.extend(quote);
        let init = ix(
            0,
            vec![
                w(market),
                r(SYSVAR_RENT),
                r(TOKEN_PROGRAM_ID),
                r(PYTH_LEGACY_ID),
                r(SWITCHBOARD_V2_ID),
            ],
            &args,
        );
        must(&mut ctx, "solend init_lending_market", &[init], &[]);
        let lma = Address::find_program_address(&[market.as_ref()], &SOLEND_ID).0;
        Self {
            ctx,
            admin,
            market,
            lma,
            ctokens: HashMap::new(),
        }
    }

    /// `RefreshReserve` of `res` (Pyth pull oracle, no Switchboard feed).
    pub fn refresh_reserve_ix(&self, res: &SReserve) -> Instruction {
        ix(3, vec![w(res.reserve), r(res.oracle), r(NULL_PUBKEY)], &[])
    }

    /// `RefreshObligation` of `ob` as it stands.
    pub fn refresh_obligation_ix(&self, ob: &SObligation) -> Instruction {
        let mut accounts = vec![w(ob.obligation)];
        accounts.extend(ob.deposits.iter().map(|x| r(x.reserve)));
        accounts.extend(ob.borrows.iter().map(|x| r(x.reserve)));
        ix(7, accounts, &[])
    }

    /// The cToken account of `owner` for `res`, made on first use.
    pub fn ctoken_account(&mut self, owner: &Address, res: &SReserve) -> Address {
        if let Some(a) = self.ctokens.get(&(*owner, res.reserve)) {
            return *a;
        }
        let a = self
            .ctx
            .chain
            .create_token_account(&res.coll_mint, owner)
            .expect("cToken account");
        self.ctokens.insert((*owner, res.reserve), a);
        a
    }

    /// The candidate transactions, smallest first (see [`super`]).
    fn variants(
        &self,
        ob: &SObligation,
        target: &[SReserve],
        name: &str,
        action: Instruction,
    ) -> Vec<(String, Vec<Instruction>)> {
        // The other reserves of the obligation first, then the
        // instruction's own (the order klend needs; Solend takes any).
        let mut all: Vec<SReserve> = vec![];
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

    /// Puts `ob`'s positions in their stored order.
    pub fn sync(&self, ob: &mut SObligation) {
        let data = self.data(&ob.obligation);
        reorder(ob, &data);
    }

    /// `ob`'s position order once refreshed now: the refreshes simulated,
    /// nothing written.
    fn order_after_refresh(&self, ob: &SObligation) -> SObligation {
        let mut ixs: Vec<Instruction> = ob
            .deposits
            .iter()
            .chain(&ob.borrows)
            .map(|x| self.refresh_reserve_ix(x))
            .collect();
        ixs.push(self.refresh_obligation_ix(ob));
        let chain = &self.ctx.chain;
        let payer = chain.payer.pubkey();
        let msg = solana_message::Message::new(&ixs, Some(&payer));
        let tx = solana_transaction::Transaction::new(
            &[&chain.payer],
            msg,
            chain.svm.latest_blockhash(),
        );
        let sim = chain
            .svm
            .simulate_transaction(tx)
            .unwrap_or_else(|e| panic!("simulated refresh: {}", e.meta.logs.join("\n")));
        let (_, after) = sim
            .post_accounts
            .iter()
            .find(|(k, _)| *k == ob.obligation)
            .expect("obligation in the simulation");
        let mut out = ob.clone();
        reorder(&mut out, &after.data_clone());
        out
    }

    /// The token balance of `account`.
    fn token_balance(&self, account: &Address) -> u64 {
        self.ctx
            .chain
            .token_balance(account)
            .expect("token account")
    }

    /// The raw bytes of `address`.
    pub fn data(&self, address: &Address) -> Vec<u8> {
        self.ctx
            .chain
            .svm
            .get_account(address)
            .map(|a| a.data)
            .unwrap_or_default()
    }
}

/// The obligation's collateral reserves, writable, in order: Solend 2.x's
/// borrow and withdraw take them after their fixed accounts to update the
/// reserves' attributed borrow values.
fn deposit_reserves(ob: &SObligation) -> Vec<AccountMeta> {
    ob.deposits.iter().map(|x| w(x.reserve)).collect()
}

/// Offset of `deposits_len` in Solend 2.x's obligation (then `borrows_len`,
/// then the deposits, 88 bytes each, then the borrows, 112 bytes each).
const OBLIGATION_DEPOSITS_LEN_AT: usize = 202;
const OBLIGATION_COLLATERAL_LEN: usize = 88;
const OBLIGATION_LIQUIDITY_LEN: usize = 112;

/// The reserves of an obligation's deposits and borrows, in stored order.
pub fn obligation_positions(data: &[u8]) -> (Vec<Address>, Vec<Address>) {
    let at = OBLIGATION_DEPOSITS_LEN_AT;
    let (nd, nb) = (usize::from(data[at]), usize::from(data[at + 1]));
    let key = |o: usize| Address::new_from_array(data[o..o + 32].try_into().expect("32 bytes"));
    let flat = at + 2;
    let deposits = (0..nd)
        .map(|i| key(flat + i * OBLIGATION_COLLATERAL_LEN))
        .collect();
    let borrows_at = flat + nd * OBLIGATION_COLLATERAL_LEN;
    let borrows = (0..nb)
        .map(|i| key(borrows_at + i * OBLIGATION_LIQUIDITY_LEN))
        .collect();
    (deposits, borrows)
}

/// Puts `ob`'s positions in the order of `data` (Solend's
/// `refresh_obligation` keeps the borrows sorted by value, largest first, and
/// wants the reserves listed in the stored order).
fn reorder(ob: &mut SObligation, data: &[u8]) {
    let (deposits, borrows) = obligation_positions(data);
    let pick = |keys: Vec<Address>, have: &[SReserve]| -> Vec<SReserve> {
        assert_eq!(
            keys.len(),
            have.len(),
            "Solend obligation layout: position count"
        );
        keys.iter()
            .map(|k| {
                *have
                    .iter()
                    .find(|x| x.reserve == *k)
                    .expect("Solend obligation layout: unknown reserve")
            })
            .collect()
    };
    ob.deposits = pick(deposits, &ob.deposits);
    ob.borrows = pick(borrows, &ob.borrows);
}

fn push_unique(v: &mut Vec<SReserve>, x: &SReserve) {
    if !v.iter().any(|y| y.reserve == x.reserve) {
        v.push(*x);
    }
}

impl Protocol for SolendMarket {
    type Reserve = SReserve;
    type Obligation = SObligation;
    const NAME: &'static str = "solend";

    fn new() -> Self {
        let mut ctx = peer_context();
        ctx.set_time(START_TS);
        Self::create(ctx)
    }

    /// Creates the reserve with `InitReserve` ([`init_reserve_data`]); the
    /// market owner supplies [`INIT_LIQUIDITY`] base units.
    fn add_reserve(&mut self, decimals: u8, price: f64) -> SReserve {
        let mint = self
            .ctx
            .chain
            .create_mint(&TOKEN_PROGRAM_ID, decimals)
            .expect("mint");
        let res = SReserve {
            reserve: new_address(),
            mint,
            oracle: new_address(),
            liq_supply: new_address(),
            fee_recv: new_address(),
            coll_mint: new_address(),
            coll_supply: new_address(),
            decimals,
        };
        self.set_price(&res, price);
        let ctx = &mut self.ctx;
        set_account(ctx, &res.reserve, SOLEND_ID, vec![0; RESERVE_LEN]);
        for a in [res.liq_supply, res.fee_recv, res.coll_supply] {
            set_account(ctx, &a, TOKEN_PROGRAM_ID, vec![0; 165]);
        }
        set_account(ctx, &res.coll_mint, TOKEN_PROGRAM_ID, vec![0; 82]);
        let admin = self.admin.pubkey();
        let src = self.token_account(&res, &admin, INIT_LIQUIDITY);
        let dst_coll = new_address();
        set_account(&mut self.ctx, &dst_coll, TOKEN_PROGRAM_ID, vec![0; 165]);
        self.ctokens.insert((admin, res.reserve), dst_coll);
        let init = ix(
            2,
            vec![
                w(src),
                w(dst_coll),
                w(res.reserve),
                r(res.mint),
                w(res.liq_supply),
                w(res.fee_recv),
                w(res.coll_mint),
                w(res.coll_supply),
                r(res.oracle), // Pyth product: unused by pull oracles
                r(res.oracle),
                r(NULL_PUBKEY), // no Switchboard feed
                r(self.market),
                r(self.lma),
                rs(admin),
                rs(admin),
                r(SYSVAR_RENT),
                r(TOKEN_PROGRAM_ID),
            ],
            &init_reserve_data(INIT_LIQUIDITY, &res.fee_recv)[1..],
        );
        let admin = self.admin.insecure_clone();
        must(&mut self.ctx, "solend init_reserve", &[init], &[&admin]);
        res
    }

    fn units(&self, r: &SReserve, whole: f64) -> u64 {
        (whole * 10f64.powi(i32::from(r.decimals))).round() as u64
    }

    fn funded_user(&mut self) -> Keypair {
        self.ctx.funded_user(10)
    }

    fn token_account(&mut self, r: &SReserve, owner: &Address, amount: u64) -> Address {
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

    fn open_obligation(&mut self, owner: &Keypair) -> SObligation {
        let obligation = new_address();
        set_account(
            &mut self.ctx,
            &obligation,
            SOLEND_ID,
            vec![0; OBLIGATION_LEN],
        );
        let init = ix(
            6,
            vec![
                w(obligation),
                r(self.market),
                rs(owner.pubkey()),
                r(SYSVAR_RENT),
                r(TOKEN_PROGRAM_ID),
            ],
            &[],
        );
        must(&mut self.ctx, "solend init_obligation", &[init], &[owner]);
        SObligation {
            obligation,
            deposits: vec![],
            borrows: vec![],
        }
    }

    fn warp(&mut self, seconds: i64) {
        self.ctx.warp_seconds(seconds);
    }

    fn set_price(&mut self, r: &SReserve, price: f64) {
        let now = self.ctx.clock().unix_timestamp;
        let (p, conf) = pyth_units(price);
        let mut feed = [0u8; 32];
        feed.copy_from_slice(r.mint.as_ref());
        let mut pp = PythPrice::usd(feed, price, now);
        pp.price = p;
        pp.ema_price = p;
        pp.conf = conf;
        pp.ema_conf = conf;
        self.ctx
            .chain
            .set_pyth_price(&r.oracle, &pp)
            .expect("write oracle");
    }

    fn deposit(
        &mut self,
        owner: &Keypair,
        ob: &mut SObligation,
        res: &SReserve,
        src: &Address,
        amount: u64,
    ) -> Result<Cost, String> {
        self.sync(ob);
        let o = owner.pubkey();
        let user_coll = self.ctoken_account(&o, res);
        let action = ix(
            14,
            vec![
                w(*src),
                w(user_coll),
                w(res.reserve),
                w(res.liq_supply),
                w(res.coll_mint),
                r(self.market),
                r(self.lma),
                w(res.coll_supply),
                w(ob.obligation),
                ws(o),
                r(res.oracle),
                r(NULL_PUBKEY),
                rs(o),
                r(TOKEN_PROGRAM_ID),
            ],
            &amount.to_le_bytes(),
        );
        let v = self.variants(ob, &[*res], "deposit", action);
        let cost = first_accepted(&mut self.ctx, &[owner], v)?;
        push_unique(&mut ob.deposits, res);
        Ok(cost)
    }

    fn withdraw(
        &mut self,
        owner: &Keypair,
        ob: &mut SObligation,
        res: &SReserve,
        dst: &Address,
        amount: u64,
    ) -> Result<Cost, String> {
        self.sync(ob);
        let o = owner.pubkey();
        let user_coll = self.ctoken_account(&o, res);
        let action = ix(
            15,
            vec![
                w(res.coll_supply),
                w(user_coll),
                w(res.reserve),
                w(ob.obligation),
                w(self.market),
                r(self.lma),
                w(*dst),
                w(res.coll_mint),
                w(res.liq_supply),
                rs(o),
                rs(o),
                r(TOKEN_PROGRAM_ID),
            ]
            .into_iter()
            .chain(deposit_reserves(ob))
            .collect(),
            &amount.to_le_bytes(),
        );
        let v = self.variants(ob, &[*res], "withdraw", action);
        first_accepted(&mut self.ctx, &[owner], v)
    }

    fn borrow(
        &mut self,
        owner: &Keypair,
        ob: &mut SObligation,
        res: &SReserve,
        dst: &Address,
        amount: u64,
    ) -> Result<Cost, String> {
        self.sync(ob);
        let action = ix(
            10,
            vec![
                w(res.liq_supply),
                w(*dst),
                w(res.reserve),
                w(res.fee_recv),
                w(ob.obligation),
                w(self.market),
                r(self.lma),
                rs(owner.pubkey()),
                r(TOKEN_PROGRAM_ID),
            ]
            .into_iter()
            .chain(deposit_reserves(ob))
            .collect(),
            &amount.to_le_bytes(),
        );
        let v = self.variants(ob, &[*res], "borrow", action);
        let cost = first_accepted(&mut self.ctx, &[owner], v)?;
        push_unique(&mut ob.borrows, res);
        Ok(cost)
    }

    fn repay(
        &mut self,
        owner: &Keypair,
        ob: &mut SObligation,
        res: &SReserve,
        src: &Address,
        amount: u64,
    ) -> Result<Cost, String> {
        self.sync(ob);
        let action = ix(
            11,
            vec![
                w(*src),
                w(res.liq_supply),
                w(res.reserve),
                w(ob.obligation),
                r(self.market),
                rs(owner.pubkey()),
                r(TOKEN_PROGRAM_ID),
            ],
            &amount.to_le_bytes(),
        );
        let v = self.variants(ob, &[*res], "repay", action);
        first_accepted(&mut self.ctx, &[owner], v)
    }

    fn liquidate(
        &mut self,
        liquidator: &Keypair,
        ob: &mut SObligation,
        debt: &SReserve,
        coll: &SReserve,
        src: &Address,
    ) -> Result<Cost, String> {
        self.sync(ob);
        let l = liquidator.pubkey();
        // Solend only lets a liquidator repay the obligation's first borrow
        // (the largest by value once refreshed): with two equal debts, that
        // may be the other one, repaid from a token account like `src`.
        let after = self.order_after_refresh(ob);
        let first = after.borrows[0];
        let (debt, src) = if first.reserve == debt.reserve {
            (*debt, *src)
        } else {
            let amount = self.token_balance(src);
            (first, self.token_account(&first, &l, amount))
        };
        let debt = &debt;
        let src = &src;
        let dst_coll = self.ctoken_account(&l, coll);
        let dst_liq = self.token_account(coll, &l, 0);
        let action = ix(
            17,
            vec![
                w(*src),
                w(dst_coll),
                w(dst_liq),
                w(debt.reserve),
                w(debt.liq_supply),
                w(coll.reserve),
                w(coll.coll_mint),
                w(coll.coll_supply),
                w(coll.liq_supply),
                w(coll.fee_recv),
                w(ob.obligation),
                w(self.market),
                r(self.lma),
                rs(l),
                r(TOKEN_PROGRAM_ID),
            ],
            &u64::MAX.to_le_bytes(), // up to the close factor
        );
        let v = self.variants(ob, &[*debt, *coll], "liquidate", action);
        first_accepted(&mut self.ctx, &[liquidator], v)
    }
}
