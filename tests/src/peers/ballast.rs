//! Ballast behind [`Protocol`]: exactly the calls `tests/benches/cu.rs` makes
//! (same harness, same reserve configuration, same health accounts), each
//! instruction sent alone, as a Ballast user sends it.

use super::{peer_context, Cost, Protocol};
use crate::{
    ix, test_config, Address, Keypair, Signer, TestContext, TestMarket, TestReserve,
    TOKEN_PROGRAM_ID,
};

/// A Ballast market on a VM that also holds the peer programs.
pub struct BallastMarket {
    /// The chain.
    pub ctx: TestContext,
    /// The market and its admin.
    pub market: TestMarket,
}

impl BallastMarket {
    fn one(
        &mut self,
        signer: &Keypair,
        ix: solana_instruction::Instruction,
    ) -> Result<Cost, String> {
        match self.ctx.chain.send(&[ix], &[signer]) {
            Ok(meta) => Ok(Cost {
                ix: meta.compute_units_consumed,
                tx: meta.compute_units_consumed,
                shape: "one instruction".into(),
                rejected: vec![],
            }),
            Err(e) => Err(format!(
                "{:?}: {}",
                e.err,
                super::failure_reason(&e.meta.logs)
            )),
        }
    }
}

impl Protocol for BallastMarket {
    type Reserve = TestReserve;
    type Obligation = Address;
    const NAME: &'static str = "ballast";

    fn new() -> Self {
        let mut ctx = peer_context();
        let market = ctx.setup_market();
        Self { ctx, market }
    }

    fn add_reserve(&mut self, decimals: u8, price: f64) -> TestReserve {
        // As in cu.rs: the harness publishes the first price (confidence 0).
        self.ctx.add_reserve(
            &self.market,
            &TOKEN_PROGRAM_ID,
            decimals,
            price,
            test_config([0; 32]),
        )
    }

    fn units(&self, r: &TestReserve, whole: f64) -> u64 {
        r.units(whole)
    }

    fn funded_user(&mut self) -> Keypair {
        self.ctx.funded_user(10)
    }

    fn token_account(&mut self, r: &TestReserve, owner: &Address, amount: u64) -> Address {
        self.ctx.token_account_for(r, owner, amount)
    }

    fn open_obligation(&mut self, owner: &Keypair) -> Address {
        let market = self.market.market;
        self.ctx.open_obligation(owner, &market, 0)
    }

    fn warp(&mut self, seconds: i64) {
        self.ctx.warp_seconds(seconds);
    }

    fn set_price(&mut self, r: &TestReserve, price: f64) {
        self.ctx.set_price(r, price, price * 0.001);
    }

    fn deposit(
        &mut self,
        owner: &Keypair,
        ob: &mut Address,
        r: &TestReserve,
        src: &Address,
        amount: u64,
    ) -> Result<Cost, String> {
        let ix = ix::deposit(&owner.pubkey(), &r.keys, ob, src, amount);
        self.one(owner, ix)
    }

    fn withdraw(
        &mut self,
        owner: &Keypair,
        ob: &mut Address,
        r: &TestReserve,
        dst: &Address,
        amount: u64,
    ) -> Result<Cost, String> {
        let health = self.ctx.health_accounts(ob, &[]);
        let ix = ix::withdraw(&owner.pubkey(), &r.keys, ob, dst, amount, health);
        self.one(owner, ix)
    }

    fn borrow(
        &mut self,
        owner: &Keypair,
        ob: &mut Address,
        r: &TestReserve,
        dst: &Address,
        amount: u64,
    ) -> Result<Cost, String> {
        let health = self.ctx.health_accounts(ob, &[r]);
        let ix = ix::borrow(&owner.pubkey(), &r.keys, ob, dst, amount, health);
        self.one(owner, ix)
    }

    fn repay(
        &mut self,
        owner: &Keypair,
        ob: &mut Address,
        r: &TestReserve,
        src: &Address,
        amount: u64,
    ) -> Result<Cost, String> {
        let ix = ix::repay(&owner.pubkey(), &r.keys, ob, src, amount);
        self.one(owner, ix)
    }

    fn liquidate(
        &mut self,
        liquidator: &Keypair,
        ob: &mut Address,
        debt: &TestReserve,
        coll: &TestReserve,
        src: &Address,
    ) -> Result<Cost, String> {
        let dst = self.ctx.token_account_for(coll, &liquidator.pubkey(), 0);
        let health = self.ctx.liquidation_accounts(ob, debt);
        let ix = ix::liquidate(
            &liquidator.pubkey(),
            ob,
            &debt.keys,
            &coll.keys,
            src,
            &dst,
            u64::MAX,
            health,
        );
        self.one(liquidator, ix)
    }
}
