//! The `obligation_stress` view: sending it, decoding its return data, and
//! oracle prices set by exact mantissa.

use anchor_lang::AnchorDeserialize;
use ballast::engine::stress::{ObligationStress, OBLIGATION_STRESS_LEN};
use litesvm::types::TransactionMetadata;
use solana_instruction::Instruction;
use solana_transaction_error::TransactionError;

use crate::{ix, Address, PythPrice, TestContext, TestReserve};

impl TestContext {
    /// The `obligation_stress` instruction for obligation `o` of `market`
    /// as it is on chain (its health accounts read now).
    pub fn stress_ix(&self, market: &Address, o: &Address, shocks_bps: &[u32]) -> Instruction {
        let health = self.health_accounts(o, &[]);
        ix::obligation_stress(market, o, shocks_bps.to_vec(), health)
    }

    /// Sends `ix` (an `obligation_stress`): checks that it wrote nothing to
    /// the accounts it names and that its return data is Ballast's, of the
    /// documented length; returns the decoded view and the compute units.
    pub fn stress_send(
        &mut self,
        ix: Instruction,
    ) -> Result<(ObligationStress, u64), TransactionError> {
        let named: Vec<Address> = ix.accounts.iter().map(|a| a.pubkey).collect();
        let before: Vec<_> = named.iter().map(|a| self.svm.get_account(a)).collect();
        let meta: TransactionMetadata = self.chain.send(&[ix], &[]).map_err(|e| e.err)?;
        let after: Vec<_> = named.iter().map(|a| self.svm.get_account(a)).collect();
        assert_eq!(before, after, "a view writes nothing");
        assert_eq!(meta.return_data.program_id, ballast::ID);
        assert_eq!(meta.return_data.data.len(), OBLIGATION_STRESS_LEN);
        let s =
            ObligationStress::try_from_slice(&meta.return_data.data).expect("documented layout");
        Ok((s, meta.compute_units_consumed))
    }

    /// `obligation_stress` of `o` with `shocks_bps`, which must succeed.
    pub fn stress(
        &mut self,
        market: &Address,
        o: &Address,
        shocks_bps: &[u32],
    ) -> ObligationStress {
        let ix = self.stress_ix(market, o, shocks_bps);
        self.stress_send(ix).expect("obligation_stress").0
    }

    /// The stress view of `o` computed off-chain by the program's own engine
    /// ([`ballast::engine::stress::obligation_stress`]) from the chain's
    /// reserves and oracles now, as a keeper would from a snapshot.
    pub fn engine_stress(&self, o: &Address, shocks_bps: &[u32]) -> ObligationStress {
        use ballast::engine::health::ReserveView;
        use ballast::engine::oracle::OraclePrice;
        use ballast::state::Reserve;
        let now = self.clock().unix_timestamp;
        let ob = self.obligation(o);
        let (keys, kinds, n) = ob.health_reserves_with_kinds();
        let loaded: Vec<(ReserveView, OraclePrice)> = (0..n)
            .map(|i| {
                let reserve: Reserve = self.chain.zero_copy(&keys[i]).unwrap();
                let acc = self.svm.get_account(&reserve.oracle).unwrap();
                let update = ballast::runtime::oracle_account::decode_bytes(&acc.data).unwrap();
                let price = ballast::engine::oracle::validate_price(
                    &update,
                    &ballast::runtime::oracle_account::limits(&reserve),
                    now,
                )
                .unwrap();
                let view = reserve
                    .view_for(now, kinds[i] & 1 != 0, kinds[i] & 2 != 0)
                    .unwrap();
                (view, price)
            })
            .collect();
        ballast::engine::stress::obligation_stress(
            *o,
            now,
            &ob.positions,
            &keys[..n],
            shocks_bps,
            |r| {
                let i = keys[..n].iter().position(|k| k == r)?;
                Some((&loaded[i].0, &loaded[i].1))
            },
        )
        .unwrap()
    }

    /// Writes `r`'s oracle with spot and EMA mantissa `mantissa` at
    /// `exponent`, zero confidence, published now.
    pub fn set_mantissa(&mut self, r: &TestReserve, mantissa: i64, exponent: i32) {
        let now = self.clock().unix_timestamp;
        let mut p = PythPrice::usd(r.feed_id, 0.0, now);
        p.price = mantissa;
        p.ema_price = mantissa;
        p.conf = 0;
        p.ema_conf = 0;
        p.exponent = exponent;
        self.set_pyth(r, &p);
    }
}
