//! Accounting checks of the scenario and property tests: a reserve's books
//! against its vault and its obligations.

use crate::{Address, TestContext, TestReserve};

impl TestContext {
    /// Asserts the books of reserve `r`, whose depositors and borrowers are
    /// exactly the `obligations`: the vault holds `available_amount` to the
    /// base unit; `supply()` is available + borrowed (rounded down) - fees,
    /// and within one ulp of it with borrowed rounded up; the reserve's
    /// deposit shares are the sum of the obligations' collateral shares and
    /// its debt shares the exact (`Fx`) sum of their debt shares.
    pub fn assert_books(&self, label: &str, r: &TestReserve, obligations: &[Address]) {
        use ballast::engine::fx::{fx_u64, Fx, FxExt, FX_ZERO};
        use ballast::state::PositionKind;
        let reserve = self.reserve(r);
        let vault = self.chain.token_balance(&r.keys.liquidity_vault).unwrap();
        assert_eq!(
            vault, reserve.available_amount,
            "[{label}] vault balance vs reserve.available_amount"
        );
        let (shares, index, fees) = (
            reserve.borrow_shares.get(),
            reserve.borrow_index.get(),
            reserve.protocol_fees.get(),
        );
        let supply = reserve.supply().unwrap();
        let low = fx_u64(reserve.available_amount) + shares.mul_floor(index).unwrap() - fees;
        assert_eq!(supply, low.max(FX_ZERO), "[{label}] supply identity");
        let high = fx_u64(reserve.available_amount) + reserve.borrowed().unwrap() - fees;
        assert!(
            high >= supply && high - supply <= Fx::DELTA,
            "[{label}] available + borrowed - fees = {high} vs supply {supply}"
        );
        let mut deposit_shares = 0u64;
        let mut borrow_shares = FX_ZERO;
        for o in obligations {
            let ob = self.obligation(o);
            if let Some(i) = ob.find(&r.keys.reserve, PositionKind::Collateral) {
                deposit_shares += ob.positions[i].deposit_shares;
            }
            if let Some(i) = ob.find(&r.keys.reserve, PositionKind::Debt) {
                borrow_shares += ob.positions[i].borrow_shares.get();
            }
        }
        assert_eq!(
            reserve.deposit_shares, deposit_shares,
            "[{label}] reserve deposit shares vs the obligations' sum"
        );
        assert_eq!(
            shares, borrow_shares,
            "[{label}] reserve debt shares vs the obligations' sum"
        );
    }

    /// The supply of `mint` as its account records it, base units.
    pub fn mint_supply(&self, mint: &Address) -> u64 {
        let acc = self.chain.svm.get_account(mint).expect("mint");
        // COption<Pubkey> (36 bytes) then the u64 supply, in both programs.
        u64::from_le_bytes(acc.data[36..44].try_into().expect("mint data"))
    }
}
