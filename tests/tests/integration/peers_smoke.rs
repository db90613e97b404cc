//! Smoke test of the peer-program harness behind `make bench-peers`: both
//! peer programs load beside `ballast.so`, and one klend and one Solend
//! `refresh_reserve` succeed on reserves the harness made (klend's written
//! directly with its published layout, Solend's by its own `InitReserve`).

use ballast_tests::peers::klend::KlendMarket;
use ballast_tests::peers::solend::{SolendMarket, RESERVE_LEN};
use ballast_tests::peers::Protocol;

fn refresh_logs(
    ctx: &mut ballast_tests::TestContext,
    ix: solana_instruction::Instruction,
) -> Vec<String> {
    match ctx.chain.send(&[ix], &[]) {
        Ok(meta) => meta.logs,
        Err(e) => panic!("refresh failed: {:?}\n{}", e.err, e.meta.logs.join("\n")),
    }
}

#[test]
fn klend_and_solend_refresh_a_reserve() {
    let mut k = KlendMarket::new();
    let usdc = k.add_reserve(6, 1.0);
    let ix = k.refresh_reserve_ix(&usdc);
    let logs = refresh_logs(&mut k.ctx, ix);
    assert!(
        logs.iter()
            .any(|l| l.contains("Instruction: RefreshReserve")),
        "klend log:\n{}",
        logs.join("\n")
    );

    let mut s = SolendMarket::new();
    let sol = s.add_reserve(9, 20.0);
    // InitReserve took the 2.0.2 config layout: LTV 75 at byte 300, the
    // attributed borrow limits (the last fields) at 554 and 562.
    let data = s.data(&sol.reserve);
    assert_eq!(data.len(), RESERVE_LEN);
    assert_eq!(data[300], 75, "loan_to_value_ratio");
    assert_eq!(&data[554..570], &[0xff; 16], "attributed borrow limits");
    s.warp(3_600);
    s.set_price(&sol, 20.0);
    let ix = s.refresh_reserve_ix(&sol);
    let logs = refresh_logs(&mut s.ctx, ix);
    assert!(
        logs.iter()
            .any(|l| l.contains("Instruction: Refresh Reserve")),
        "Solend log:\n{}",
        logs.join("\n")
    );
}
