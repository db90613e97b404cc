//! Liquidation and bad debt: the `liquidate` instruction, a liquidation
//! checked against its own event, and the positions' values.

use ballast::engine::fx::Fx;
use ballast::engine::liquidation::LiquidationConfig;
use ballast::events::Liquidated;
use solana_instruction::Instruction;

use crate::{events, ix, Address, Keypair, Signer, TestContext, TestMarket, TestReserve};

impl TestContext {
    /// The `liquidate` instruction against obligation `o` as it is on chain
    /// (its health accounts read now): `liquidator` repays up to `max_repay`
    /// of `debt` from `l_debt` and takes `coll` into `l_coll`.
    #[allow(clippy::too_many_arguments)]
    pub fn liquidate_ix(
        &self,
        liquidator: &Keypair,
        o: &Address,
        debt: &TestReserve,
        coll: &TestReserve,
        l_debt: &Address,
        l_coll: &Address,
        max_repay: u64,
    ) -> Instruction {
        let health = self.liquidation_accounts(o, debt);
        ix::liquidate(
            &liquidator.pubkey(),
            o,
            &debt.keys,
            &coll.keys,
            l_debt,
            l_coll,
            max_repay,
            health,
        )
    }

    /// The remaining accounts of a liquidation of obligation `o`'s debt in
    /// `debt`, as on chain now: its health accounts with its other debt
    /// reserves writable, then their write-off groups
    /// ([`ix::with_write_off_accounts`]); the collateral's strategy account
    /// goes after these.
    pub fn liquidation_accounts(
        &self,
        o: &Address,
        debt: &TestReserve,
    ) -> Vec<solana_instruction::AccountMeta> {
        let health = self.health_accounts(o, &[]);
        ix::with_write_off_accounts(health, &self.obligation(o), &debt.address(), |r| {
            self.chain.zero_copy::<ballast::state::Reserve>(r).ok()
        })
    }

    /// `socialize_bad_debt` of obligation `o` in `r`, with the reserve and
    /// oracle of each of its collateral positions (forfeited when dust:
    /// [`ix::dust_accounts`]).
    pub fn socialize_ix(&self, o: &Address, r: &TestReserve) -> Instruction {
        let dust = ix::dust_accounts(&self.obligation(o), |k| {
            self.chain
                .zero_copy::<ballast::state::Reserve>(k)
                .expect("reserve in obligation")
                .oracle
        });
        ix::with_accounts(ix::socialize_bad_debt(o, &r.keys), dust)
    }

    /// Sends a liquidation that must succeed and checks it against its own
    /// `Liquidated` event: one event naming this obligation, liquidator and
    /// reserves; the liquidator paid exactly `repaid` into the debt vault;
    /// the collateral vault paid out exactly `seized`, of which `to_insurance`
    /// reached the collateral reserve's insurance vault and the rest the
    /// liquidator; both reserves' `available_amount` moved by the same
    /// amounts and both vaults reconcile. Returns the event.
    #[allow(clippy::too_many_arguments)]
    pub fn liquidate_ok(
        &mut self,
        liquidator: &Keypair,
        o: &Address,
        debt: &TestReserve,
        coll: &TestReserve,
        l_debt: &Address,
        l_coll: &Address,
        max_repay: u64,
    ) -> Liquidated {
        let bal = |ctx: &Self, a: &Address| ctx.chain.token_balance(a).unwrap();
        let accounts = [
            *l_debt,
            debt.keys.liquidity_vault,
            coll.keys.liquidity_vault,
            *l_coll,
            coll.keys.insurance_vault,
        ];
        let before: Vec<u64> = accounts.iter().map(|a| bal(self, a)).collect();
        let (avail_d, avail_c) = (
            self.reserve(debt).available_amount,
            self.reserve(coll).available_amount,
        );
        // The collateral reserve's strategy reserve when it has shares
        // deployed (the program marks them before pricing the seizure).
        let ix = ix::with_accounts(
            self.liquidate_ix(liquidator, o, debt, coll, l_debt, l_coll, max_repay),
            ix::strategy_account(&self.reserve(coll)),
        );
        let logs = self.ok_logs("liquidate", &[ix], &[liquidator]);
        let e: Vec<Liquidated> = events(&logs);
        assert_eq!(e.len(), 1, "one Liquidated event");
        let e = e.into_iter().next().unwrap();
        // A liquidation that takes the last collateral writes the remaining
        // debt off in the same instruction, insurance first: the cover
        // reaches the debt vault too.
        // A liquidation that takes the last collateral writes every
        // remaining debt off in the same instruction (the debt reserve's
        // first), insurance first: the cover reaches the debt vault too.
        let w: Vec<ballast::events::BadDebtSocialized> = events(&logs);
        for x in &w {
            assert_eq!(x.obligation, *o);
            assert!(!self.has_collateral(o), "written off only once bare");
        }
        if !w.is_empty() {
            assert!(!self.obligation(o).has_debt(), "every debt written off");
        }
        let covered = w
            .iter()
            .filter(|x| x.reserve == debt.address())
            .map(|x| x.covered_by_insurance)
            .sum::<u64>();
        assert_eq!(e.obligation, *o);
        assert_eq!(e.liquidator, liquidator.pubkey());
        assert_eq!(e.debt_reserve, debt.address());
        assert_eq!(e.collateral_reserve, coll.address());
        assert!(e.to_insurance <= e.seized);
        let after: Vec<u64> = accounts.iter().map(|a| bal(self, a)).collect();
        assert_eq!(before[0] - after[0], e.repaid, "liquidator paid `repaid`");
        assert_eq!(
            after[1] - before[1],
            e.repaid + covered,
            "debt vault got `repaid` (and the insurance cover)"
        );
        assert_eq!(
            before[2] - after[2],
            e.seized,
            "collateral vault paid `seized`"
        );
        assert_eq!(
            after[3] - before[3],
            e.seized - e.to_insurance,
            "liquidator got `seized - to_insurance`"
        );
        assert_eq!(
            after[4] - before[4],
            e.to_insurance,
            "insurance vault got `to_insurance`"
        );
        assert_eq!(
            self.reserve(debt).available_amount,
            avail_d + e.repaid + covered
        );
        assert_eq!(self.reserve(coll).available_amount, avail_c - e.seized);
        self.assert_vault_reconciles(debt);
        self.assert_vault_reconciles(coll);
        e
    }

    /// Sets the liquidation parameters of `m` (admin-signed `update_market`).
    pub fn set_liquidation_config(&mut self, m: &TestMarket, liquidation: LiquidationConfig) {
        let ix = ix::update_market(
            &m.admin.pubkey(),
            &m.market,
            ballast::instructions::UpdateMarketParams {
                liquidation: Some(liquidation),
                ..Default::default()
            },
        );
        self.ok("update_market liquidation", &[ix], &[&m.admin]);
    }

    /// The debt of obligation `o` in `r` now (base units, `Fx`, rounded up
    /// as the program values it), zero without a debt position.
    pub fn debt_of(&self, o: &Address, r: &TestReserve) -> Fx {
        use ballast::state::PositionKind;
        let ob = self.obligation(o);
        let Some(i) = ob.find(&r.keys.reserve, PositionKind::Debt) else {
            return Fx::ZERO;
        };
        let index = self
            .reserve(r)
            .projected_borrow_index(self.clock().unix_timestamp)
            .unwrap();
        ballast::engine::shares::debt_for_shares(ob.positions[i].borrow_shares.get(), index)
            .unwrap()
    }

    /// The tokens the collateral position of `o` in `r` redeems now (base
    /// units, rounded down), zero without one.
    pub fn collateral_of(&self, o: &Address, r: &TestReserve) -> u64 {
        use ballast::engine::fx::FxExt;
        use ballast::state::PositionKind;
        let ob = self.obligation(o);
        let Some(i) = ob.find(&r.keys.reserve, PositionKind::Collateral) else {
            return 0;
        };
        let reserve = self.reserve(r);
        ballast::engine::shares::tokens_for_shares_floor(
            ob.positions[i].deposit_shares,
            reserve.supply().unwrap(),
            reserve.deposit_shares,
        )
        .unwrap()
        .to_floor_u64()
        .unwrap()
    }

    /// Whether obligation `o` holds any collateral position.
    pub fn has_collateral(&self, o: &Address) -> bool {
        self.obligation(o)
            .positions
            .iter()
            .any(|p| p.kind() == ballast::state::PositionKind::Collateral)
    }
}

/// Whether health `after` is at least as good as `before` (collateral /
/// debt compared exactly by cross-multiplication; no debt counts as
/// infinitely healthy).
pub fn health_not_worse(
    before: &ballast::engine::health::Health,
    after: &ballast::engine::health::Health,
) -> bool {
    if after.debt <= Fx::ZERO {
        return true;
    }
    if before.debt <= Fx::ZERO {
        return false;
    }
    let bits = |v: Fx| u128::try_from(v.to_bits()).expect("non-negative");
    // after.c / after.d >= before.c / before.d  <=>  after.c * before.d >= before.c * after.d
    wide_mul(bits(after.collateral), bits(before.debt))
        >= wide_mul(bits(before.collateral), bits(after.debt))
}

/// `a * b` as a 256-bit (high, low) pair, ordered lexicographically.
fn wide_mul(a: u128, b: u128) -> (u128, u128) {
    let (a1, a0) = (a >> 64, a & u64::MAX as u128);
    let (b1, b0) = (b >> 64, b & u64::MAX as u128);
    let (p00, p01, p10, p11) = (a0 * b0, a0 * b1, a1 * b0, a1 * b1);
    let mid = (p00 >> 64) + (p01 & u64::MAX as u128) + (p10 & u64::MAX as u128);
    let lo = (p00 & u64::MAX as u128) | (mid << 64);
    let hi = p11 + (p01 >> 64) + (p10 >> 64) + (mid >> 64);
    (hi, lo)
}
