//! `init_market`: success and failure paths against the real `.so`.

use ballast::instructions::InitMarketParams;
use ballast::state::Market;
use ballast_tests::*;
use solana_transaction_error::TransactionError;

#[test]
fn init_market_records_authorities_and_pause_flag() {
    let mut ctx = TestContext::new();
    let admin = ctx.funded_user(10);
    let risk = Keypair::new();
    let market = Keypair::new();
    let ix = ix::init_market(
        &admin.pubkey(),
        &market.pubkey(),
        InitMarketParams {
            risk_authority: risk.pubkey(),
            paused: true,
            liquidation: ballast::engine::liquidation::LiquidationConfig::SOLEND_LIKE,
        },
    );
    let cu = ctx.ok("init_market", &[ix], &[&admin, &market]);
    assert!(cu > 0);

    let m: Market = ctx.zero_copy(&market.pubkey()).unwrap();
    assert_eq!(m.admin, admin.pubkey());
    assert_eq!(m.risk_authority, risk.pubkey());
    assert!(m.is_paused());
    assert_eq!(m.authority_bump, ix::market_authority(&market.pubkey()).1);
    assert_eq!(ctx.owner_of(&market.pubkey()).unwrap(), ballast::ID);
}

#[test]
fn init_market_fails_when_admin_does_not_sign() {
    let mut ctx = TestContext::new();
    let admin = ctx.funded_user(10);
    let market = Keypair::new();
    let mut ix = ix::init_market(
        &admin.pubkey(),
        &market.pubkey(),
        InitMarketParams {
            risk_authority: admin.pubkey(),
            paused: false,
            liquidation: ballast::engine::liquidation::LiquidationConfig::SOLEND_LIKE,
        },
    );
    // Strip the admin's signature: the payer (someone else) sends it.
    ix.accounts[0].is_signer = false;
    let err = ctx.fails("init_market unsigned admin", &[ix], &[&market]);
    assert_code(&err, ANCHOR_ACCOUNT_NOT_SIGNER);
    assert!(
        ctx.svm.get_account(&market.pubkey()).is_none(),
        "no market may be created"
    );
}

#[test]
fn second_init_of_the_same_market_fails_and_keeps_state() {
    let mut ctx = TestContext::new();
    let admin = ctx.funded_user(10);
    let market = Keypair::new();
    let params = InitMarketParams {
        risk_authority: admin.pubkey(),
        paused: false,
        liquidation: ballast::engine::liquidation::LiquidationConfig::SOLEND_LIKE,
    };
    ctx.ok(
        "init_market",
        &[ix::init_market(&admin.pubkey(), &market.pubkey(), params)],
        &[&admin, &market],
    );
    let before = ctx.svm.get_account(&market.pubkey()).unwrap();

    // Someone else tries to take the market over by re-initialising it.
    let attacker = ctx.funded_user(10);
    let hijack = InitMarketParams {
        risk_authority: attacker.pubkey(),
        paused: true,
        liquidation: ballast::engine::liquidation::LiquidationConfig::SOLEND_LIKE,
    };
    let err = ctx.fails(
        "init_market again",
        &[ix::init_market(
            &attacker.pubkey(),
            &market.pubkey(),
            hijack,
        )],
        &[&attacker, &market],
    );
    assert!(
        matches!(err, TransactionError::InstructionError(0, _)),
        "{err:?}"
    );
    let after = ctx.svm.get_account(&market.pubkey()).unwrap();
    assert_eq!(before.data, after.data, "market state must be unchanged");
    let m: Market = ctx.zero_copy(&market.pubkey()).unwrap();
    assert_eq!(m.admin, admin.pubkey());
}
