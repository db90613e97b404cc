//! Positions: users, token accounts, obligations, the five lending
//! instructions, and the two-reserve [`Lending`] fixture most suites start
//! from.

use solana_instruction::AccountMeta;

use ballast::state::Reserve;

use crate::{ix, test_config, Address, Keypair, Signer, TestContext, TestMarket, TestReserve};

/// A two-reserve lending fixture under one token program: a market, a
/// collateral reserve ("SOL": 9 decimals, $20) and a debt reserve ("USDC": 6
/// decimals, $1), a supplier who deposited 10,000 USDC, and a borrower who
/// deposited 100 SOL (worth $1,500 at the 75% LTV) and holds no USDC yet.
pub struct Lending {
    /// The market and its admin.
    pub m: TestMarket,
    /// The collateral reserve (SOL-like).
    pub coll: TestReserve,
    /// The debt reserve (USDC-like).
    pub debt: TestReserve,
    /// The supplier of the USDC liquidity.
    pub supplier: Keypair,
    /// The supplier's obligation (10,000 USDC of collateral).
    pub so: Address,
    /// The supplier's USDC token account (empty after the deposit).
    pub s_debt: Address,
    /// The borrower.
    pub borrower: Keypair,
    /// The borrower's obligation (100 SOL of collateral).
    pub ob: Address,
    /// The borrower's SOL token account (empty after the deposit).
    pub b_coll: Address,
    /// The borrower's USDC token account (empty).
    pub b_debt: Address,
}

impl TestContext {
    /// A funded user holding `amount` base units of `r`'s mint in a new token
    /// account. Returns the user and the token account.
    pub fn user_with_tokens(&mut self, r: &TestReserve, amount: u64) -> (Keypair, Address) {
        let user = self.funded_user(10);
        let ta = self.token_account_for(r, &user.pubkey(), amount);
        (user, ta)
    }

    /// A token account of `r`'s mint owned by `owner`, funded with `amount`.
    pub fn token_account_for(&mut self, r: &TestReserve, owner: &Address, amount: u64) -> Address {
        let ta = self
            .chain
            .create_token_account(&r.keys.mint, owner)
            .expect("token account");
        if amount > 0 {
            self.chain
                .mint_to(&r.keys.mint, &ta, amount)
                .expect("mint_to");
        }
        ta
    }

    /// Opens obligation `index` of `user` in `market`; returns its address.
    pub fn open_obligation(&mut self, user: &Keypair, market: &Address, index: u8) -> Address {
        let ix = ix::init_obligation(&user.pubkey(), &user.pubkey(), market, index);
        self.ok("init_obligation", &[ix], &[user]);
        ix::obligation_address(market, &user.pubkey(), index)
    }

    /// The health remaining accounts of obligation `o` as it is on chain,
    /// plus the debt position a borrow from `extra[0]` would open (each
    /// reserve's strategy reserve after its oracle when it has a treasury
    /// strategy: [`ix::health_accounts`]).
    pub fn health_accounts(&self, o: &Address, extra: &[&TestReserve]) -> Vec<AccountMeta> {
        let ob = self.obligation(o);
        let borrowing = extra.first().map(|r| r.keys.reserve);
        ix::health_accounts(&ob, borrowing.as_ref(), |reserve| {
            ix::health_keys(
                &self
                    .chain
                    .zero_copy::<Reserve>(reserve)
                    .expect("reserve in obligation"),
            )
        })
    }

    /// Deposits `amount` of `r` from `ta` into obligation `o` of `user`
    /// (with `r`'s treasury strategy reserve appended while `r` has shares
    /// deployed: [`ix::strategy_account`]).
    pub fn deposit(
        &mut self,
        user: &Keypair,
        r: &TestReserve,
        o: &Address,
        ta: &Address,
        amount: u64,
    ) -> u64 {
        let ix = ix::with_accounts(
            ix::deposit(&user.pubkey(), &r.keys, o, ta, amount),
            ix::strategy_account(&self.reserve(r)),
        );
        self.ok("deposit", &[ix], &[user])
    }

    /// Borrows `amount` of `r` into `ta` against obligation `o`.
    pub fn borrow(
        &mut self,
        user: &Keypair,
        r: &TestReserve,
        o: &Address,
        ta: &Address,
        amount: u64,
    ) -> u64 {
        let health = self.health_accounts(o, &[r]);
        let ix = ix::borrow(&user.pubkey(), &r.keys, o, ta, amount, health);
        self.ok("borrow", &[ix], &[user])
    }

    /// Withdraws `amount` of `r` into `ta` from obligation `o` (with `r`'s
    /// six recall accounts after the health accounts while `r` has shares
    /// deployed to its treasury strategy, as clients do: the withdrawal
    /// then recalls what the cap and the band need, [`Self::recall_tail`]).
    pub fn withdraw(
        &mut self,
        user: &Keypair,
        r: &TestReserve,
        o: &Address,
        ta: &Address,
        amount: u64,
    ) -> u64 {
        let mut health = self.health_accounts(o, &[]);
        health.extend(self.recall_tail(r));
        let ix = ix::withdraw(&user.pubkey(), &r.keys, o, ta, amount, health);
        self.ok("withdraw", &[ix], &[user])
    }

    /// The six recall accounts of a withdrawal from `r` while it has shares
    /// deployed to its treasury strategy ([`ix::recall_accounts`], the
    /// strategy's keys read from the chain); none otherwise.
    pub fn recall_tail(&self, r: &TestReserve) -> Vec<AccountMeta> {
        let reserve = self.reserve(r);
        if reserve.treasury.deployed_shares == 0 {
            return vec![];
        }
        let s = self
            .chain
            .zero_copy::<Reserve>(&reserve.treasury.strategy_reserve)
            .expect("strategy reserve");
        let strategy = ix::ReserveKeys::derive(&s.market, &s.mint, &s.token_program, &s.oracle);
        ix::recall_accounts(&r.keys, &strategy)
    }

    /// Repays up to `amount` of `r` from `ta` (owned by `payer`) on `o`.
    pub fn repay(
        &mut self,
        payer: &Keypair,
        r: &TestReserve,
        o: &Address,
        ta: &Address,
        amount: u64,
    ) -> u64 {
        let ix = ix::repay(&payer.pubkey(), &r.keys, o, ta, amount);
        self.ok("repay", &[ix], &[payer])
    }

    /// Asserts the reserve's vault holds exactly `available_amount` (the
    /// balance-sheet invariant), to the base unit.
    pub fn assert_vault_reconciles(&self, r: &TestReserve) {
        let reserve = self.reserve(r);
        let vault = self.chain.token_balance(&r.keys.liquidity_vault).unwrap();
        assert_eq!(
            vault, reserve.available_amount,
            "vault balance vs reserve.available_amount"
        );
    }

    /// Builds the [`Lending`] fixture with both reserves under
    /// `token_program`.
    pub fn lending(&mut self, token_program: &Address) -> Lending {
        let m = self.setup_market();
        let coll = self.add_reserve(&m, token_program, 9, 20.0, test_config([0; 32]));
        let debt = self.add_reserve(&m, token_program, 6, 1.0, test_config([0; 32]));

        let (supplier, s_debt) = self.user_with_tokens(&debt, debt.units(10_000.0));
        let so = self.open_obligation(&supplier, &m.market, 0);
        self.deposit(&supplier, &debt, &so, &s_debt, debt.units(10_000.0));

        let (borrower, b_coll) = self.user_with_tokens(&coll, coll.units(100.0));
        let b_debt = self.token_account_for(&debt, &borrower.pubkey(), 0);
        let ob = self.open_obligation(&borrower, &m.market, 0);
        self.deposit(&borrower, &coll, &ob, &b_coll, coll.units(100.0));
        Lending {
            m,
            coll,
            debt,
            supplier,
            so,
            s_debt,
            borrower,
            ob,
            b_coll,
            b_debt,
        }
    }
}

impl Lending {
    /// Every account a lending instruction can touch: market, both reserves
    /// and vaults, both obligations and the users' token accounts.
    pub fn accounts(&self) -> Vec<Address> {
        vec![
            self.m.market,
            self.coll.keys.reserve,
            self.coll.keys.liquidity_vault,
            self.debt.keys.reserve,
            self.debt.keys.liquidity_vault,
            self.so,
            self.s_debt,
            self.ob,
            self.b_coll,
            self.b_debt,
        ]
    }
}
