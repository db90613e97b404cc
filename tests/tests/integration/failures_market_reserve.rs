//! Adversarial tests of the admin instructions (`update_market`,
//! `init_reserve`, `update_reserve_config`) and of `accrue_interest`: wrong
//! signers, substituted accounts, invalid configurations, unsupported
//! Token-2022 mints and bad oracles. Every failure is checked for its exact
//! error code and for leaving the accounts involved byte-for-byte unchanged.

use anchor_lang::error::ErrorCode as AnchorError;
use anchor_spl::token_2022::spl_token_2022::extension::ExtensionType;
use ballast::engine::rates::RateCurve;
use ballast::errors::BallastError;
use ballast::instructions::UpdateMarketParams;
use ballast::state::{Market, ReserveConfig};
use ballast_tests::*;
use solana_instruction_error::InstructionError;
use solana_transaction_error::TransactionError;

/// Invalid configurations, each with the error it must raise.
fn bad_configs(feed_id: [u8; 32]) -> Vec<(&'static str, ReserveConfig, BallastError)> {
    let base = test_config(feed_id);
    let with = |f: &dyn Fn(&mut ReserveConfig)| {
        let mut c = base;
        f(&mut c);
        c
    };
    let curve = BallastError::InvalidRateCurve;
    let config = BallastError::InvalidReserveConfig;
    vec![
        (
            "rates decrease along the curve",
            with(&|c| {
                c.rate_curve = RateCurve::from_points(&[(0, 500), (8_000, 400), (10_000, 6_850)])
            }),
            curve,
        ),
        (
            "utilisation does not strictly increase",
            with(&|c| {
                c.rate_curve =
                    RateCurve::from_points(&[(0, 50), (8_000, 850), (8_000, 900), (10_000, 6_850)])
            }),
            curve,
        ),
        (
            "curve does not end at 100%",
            with(&|c| c.rate_curve = RateCurve::from_points(&[(0, 50), (9_000, 850)])),
            curve,
        ),
        (
            "curve does not start at 0%",
            with(&|c| c.rate_curve = RateCurve::from_points(&[(100, 50), (10_000, 850)])),
            curve,
        ),
        (
            "single-point curve",
            with(&|c| c.rate_curve = RateCurve::from_points(&[(0, 50)])),
            curve,
        ),
        (
            "rate above 1,000% APR",
            with(&|c| c.rate_curve = RateCurve::from_points(&[(0, 50), (10_000, 100_001)])),
            curve,
        ),
        (
            "LTV equal to the liquidation threshold",
            with(&|c| c.loan_to_value_bps = c.liquidation_threshold_bps),
            config,
        ),
        (
            "LTV above the liquidation threshold",
            with(&|c| c.loan_to_value_bps = c.liquidation_threshold_bps + 1),
            config,
        ),
        (
            "liquidation threshold of 100%",
            with(&|c| c.liquidation_threshold_bps = 10_000),
            config,
        ),
        (
            "borrow factor below 1",
            with(&|c| c.borrow_factor_bps = 9_999),
            config,
        ),
        (
            "borrow factor above 5",
            with(&|c| c.borrow_factor_bps = 50_001),
            config,
        ),
        (
            "oracle max age 0",
            with(&|c| c.oracle_max_age_secs = 0),
            config,
        ),
        (
            "oracle max age above a day",
            with(&|c| c.oracle_max_age_secs = 86_401),
            config,
        ),
        (
            "oracle max confidence 0",
            with(&|c| c.oracle_max_conf_bps = 0),
            config,
        ),
        (
            "oracle max confidence above 100%",
            with(&|c| c.oracle_max_conf_bps = 10_001),
            config,
        ),
        (
            "reserve factor above 100%",
            with(&|c| c.reserve_factor_bps = 10_001),
            config,
        ),
        (
            "max utilisation 0",
            with(&|c| c.max_utilization_bps = 0),
            config,
        ),
        (
            "max utilisation above 100%",
            with(&|c| c.max_utilization_bps = 10_001),
            config,
        ),
        (
            "non-zero padding",
            with(&|c| c._padding = [1, 0, 0, 0, 0, 0]),
            config,
        ),
    ]
}

/// A mint with its oracle (fresh price) and the keys of its not-yet-created
/// reserve in `m`.
fn unlisted(ctx: &mut TestContext, m: &TestMarket, token_program: &Address) -> TestReserve {
    let mint = ctx.create_mint(token_program, 6).unwrap();
    unlisted_mint(ctx, m, &mint, token_program)
}

fn unlisted_mint(
    ctx: &mut TestContext,
    m: &TestMarket,
    mint: &Address,
    token_program: &Address,
) -> TestReserve {
    let mut feed_id = [0u8; 32];
    feed_id.copy_from_slice(&mint.to_bytes());
    let oracle = push_feed_address(&feed_id);
    let r = TestReserve {
        keys: ReserveKeys::derive(&m.market, mint, token_program, &oracle),
        feed_id,
        decimals: 6,
    };
    ctx.set_price(&r, 1.0, 0.0);
    r
}

/// The accounts `init_reserve` would create or write.
fn init_reserve_accounts(m: &TestMarket, r: &TestReserve) -> Vec<Address> {
    vec![
        m.market,
        r.keys.reserve,
        r.keys.liquidity_vault,
        r.keys.insurance_vault,
    ]
}

fn assert_not_created(ctx: &TestContext, r: &TestReserve) {
    for a in [
        r.keys.reserve,
        r.keys.liquidity_vault,
        r.keys.insurance_vault,
    ] {
        assert!(ctx.svm.get_account(&a).is_none(), "{a} must not exist");
    }
}

// ---------------------------------------------------------------------------
// update_market
// ---------------------------------------------------------------------------

#[test]
fn update_market_by_non_admin_fails_with_not_market_admin() {
    let mut ctx = TestContext::new();
    let m = ctx.setup_market();
    let attacker = ctx.funded_user(1);
    let before = ctx.snapshot(&[m.market]);
    let ix = ix::update_market(
        &attacker.pubkey(),
        &m.market,
        UpdateMarketParams {
            admin: Some(attacker.pubkey()),
            risk_authority: Some(attacker.pubkey()),
            paused: Some(true),
            liquidation: Some(ballast::engine::liquidation::LiquidationConfig {
                close_factor_bps: 10_000,
                ..ballast::engine::liquidation::LiquidationConfig::SOLEND_LIKE
            }),
        },
    );
    let err = ctx.fails("update_market by attacker", &[ix], &[&attacker]);
    assert_ballast_err(&err, BallastError::NotMarketAdmin);
    ctx.assert_unchanged("update_market by attacker", &before);
}

#[test]
fn update_market_with_admin_signature_stripped_fails() {
    let mut ctx = TestContext::new();
    let m = ctx.setup_market();
    let before = ctx.snapshot(&[m.market]);
    let mut ix = ix::update_market(
        &m.admin.pubkey(),
        &m.market,
        UpdateMarketParams {
            paused: Some(true),
            ..Default::default()
        },
    );
    ix.accounts[0].is_signer = false;
    let err = ctx.fails("update_market unsigned", &[ix], &[]);
    assert_code(&err, ANCHOR_ACCOUNT_NOT_SIGNER);
    assert_anchor_err(&err, AnchorError::AccountNotSigner);
    ctx.assert_unchanged("update_market unsigned", &before);
}

#[test]
fn update_market_on_accounts_that_are_not_markets_fails() {
    let mut ctx = TestContext::new();
    let m = ctx.setup_market();
    let r = ctx.add_reserve(&m, &TOKEN_PROGRAM_ID, 6, 1.0, test_config([0; 32]));
    let params = UpdateMarketParams {
        paused: Some(true),
        ..Default::default()
    };
    // A reserve (owned by Ballast, another discriminator) in the market slot.
    let before = ctx.snapshot(&[m.market, r.keys.reserve]);
    let ix = ix::update_market(&m.admin.pubkey(), &r.keys.reserve, params);
    let err = ctx.fails("update_market on a reserve", &[ix], &[&m.admin]);
    assert_anchor_err(&err, AnchorError::AccountDiscriminatorMismatch);
    // A byte-for-byte copy of the market owned by another program.
    let forged = ctx.forge_copy(&m.market, TOKEN_PROGRAM_ID);
    let ix = ix::update_market(&m.admin.pubkey(), &forged, params);
    let err = ctx.fails("update_market on a forged market", &[ix], &[&m.admin]);
    assert_anchor_err(&err, AnchorError::AccountOwnedByWrongProgram);
    ctx.assert_unchanged("update_market on non-markets", &before);
}

#[test]
fn former_admin_loses_every_admin_right_after_a_handover() {
    let mut ctx = TestContext::new();
    let m = ctx.setup_market();
    let new_admin = ctx.funded_user(10);
    let ix = ix::propose_admin(&m.admin.pubkey(), &m.market, &new_admin.pubkey());
    ctx.ok("propose", &[ix], &[&m.admin]);
    let ix = ix::accept_admin(&new_admin.pubkey(), &m.market);
    ctx.ok("accept", &[ix], &[&new_admin]);
    let market: Market = ctx.zero_copy(&m.market).unwrap();
    assert_eq!(market.admin, new_admin.pubkey());
    assert_eq!(market.pending_admin, Address::default());

    let before = ctx.snapshot(&[m.market]);
    let ix = ix::update_market(
        &m.admin.pubkey(),
        &m.market,
        UpdateMarketParams {
            paused: Some(true),
            ..Default::default()
        },
    );
    let err = ctx.fails("old admin pauses", &[ix], &[&m.admin]);
    assert_ballast_err(&err, BallastError::NotMarketAdmin);
    let ix = ix::propose_admin(&m.admin.pubkey(), &m.market, &m.admin.pubkey());
    let err = ctx.fails("old admin proposes itself", &[ix], &[&m.admin]);
    assert_ballast_err(&err, BallastError::NotMarketAdmin);
    let r = unlisted(&mut ctx, &m, &TOKEN_PROGRAM_ID);
    let ix = ix::init_reserve(&m.admin.pubkey(), &r.keys, test_config(r.feed_id));
    let err = ctx.fails("old admin lists a mint", &[ix], &[&m.admin]);
    assert_ballast_err(&err, BallastError::NotMarketAdmin);
    assert_not_created(&ctx, &r);
    ctx.assert_unchanged("old admin", &before);

    // The new admin can act.
    let ix = ix::init_reserve(&new_admin.pubkey(), &r.keys, test_config(r.feed_id));
    ctx.ok("new admin lists a mint", &[ix], &[&new_admin]);
}

/// Issue 13: the admin transfer was one step, so a typo lost the market.
/// `update_market` now refuses to change the admin; a proposal changes
/// nothing until the proposed key signs `accept_admin`.
#[test]
fn admin_transfer_is_two_step_and_a_typo_loses_nothing() {
    let mut ctx = TestContext::new();
    let m = ctx.setup_market();
    let before = ctx.snapshot(&[m.market]);
    let ix = ix::update_market(
        &m.admin.pubkey(),
        &m.market,
        UpdateMarketParams {
            admin: Some(Address::new_unique()),
            ..Default::default()
        },
    );
    let err = ctx.fails("one-step transfer", &[ix], &[&m.admin]);
    assert_ballast_err(&err, BallastError::AdminTransferIsTwoStep);
    ctx.assert_unchanged("one-step transfer", &before);

    // A typo: the admin proposes a key nobody holds. Still the admin.
    let typo = Address::new_unique();
    let ix = ix::propose_admin(&m.admin.pubkey(), &m.market, &typo);
    let meta = ctx.chain.send(&[ix], &[&m.admin]).expect("propose");
    let e: Vec<ballast::events::AdminProposed> = events(&meta.logs);
    assert_eq!(e.len(), 1);
    assert_eq!((e[0].admin, e[0].pending_admin), (m.admin.pubkey(), typo));
    let market: Market = ctx.zero_copy(&m.market).unwrap();
    assert_eq!(
        (market.admin, market.pending_admin),
        (m.admin.pubkey(), typo)
    );
    ctx.set_paused(&m, true);
    ctx.set_paused(&m, false);

    // Nobody else may accept, nor propose; an unsigned accept fails.
    let intruder = ctx.funded_user(1);
    let before = ctx.snapshot(&[m.market]);
    let ix = ix::accept_admin(&intruder.pubkey(), &m.market);
    let err = ctx.fails("intruder accepts", &[ix], &[&intruder]);
    assert_ballast_err(&err, BallastError::NotPendingAdmin);
    let ix = ix::propose_admin(&intruder.pubkey(), &m.market, &intruder.pubkey());
    let err = ctx.fails("intruder proposes", &[ix], &[&intruder]);
    assert_ballast_err(&err, BallastError::NotMarketAdmin);
    let mut ix = ix::accept_admin(&typo, &m.market);
    ix.accounts[0].is_signer = false;
    let err = ctx.fails("unsigned accept", &[ix], &[]);
    assert_anchor_err(&err, AnchorError::AccountNotSigner);
    // A substituted market: another market's admin cannot accept this one.
    let other = ctx.setup_market();
    let ix = ix::accept_admin(&other.admin.pubkey(), &m.market);
    let err = ctx.fails("other market's admin", &[ix], &[&other.admin]);
    assert_ballast_err(&err, BallastError::NotPendingAdmin);
    ctx.assert_unchanged("refused transfers", &before);

    // The admin corrects the typo; the right key accepts.
    let heir = ctx.funded_user(1);
    let ix = ix::propose_admin(&m.admin.pubkey(), &m.market, &heir.pubkey());
    ctx.ok("propose_admin", &[ix], &[&m.admin]);
    let ix = ix::accept_admin(&heir.pubkey(), &m.market);
    let meta = ctx.chain.send(&[ix], &[&heir]).expect("accept");
    let e: Vec<ballast::events::AdminAccepted> = events(&meta.logs);
    assert_eq!(e.len(), 1);
    assert_eq!(
        (e[0].previous_admin, e[0].admin),
        (m.admin.pubkey(), heir.pubkey())
    );
    println!("[cu] accept_admin {}", meta.compute_units_consumed);
    // Accepting twice fails: the proposal is cleared.
    let ix = ix::accept_admin(&heir.pubkey(), &m.market);
    let err = ctx.fails("accept twice", &[ix], &[&heir]);
    assert_ballast_err(&err, BallastError::NotPendingAdmin);
}

// ---------------------------------------------------------------------------
// init_reserve
// ---------------------------------------------------------------------------

#[test]
fn init_reserve_by_non_admin_fails_with_not_market_admin() {
    for tp in TOKEN_PROGRAMS {
        let mut ctx = TestContext::new();
        let m = ctx.setup_market();
        let attacker = ctx.funded_user(10);
        let r = unlisted(&mut ctx, &m, &tp);
        let before = ctx.snapshot(&init_reserve_accounts(&m, &r));
        let ix = ix::init_reserve(&attacker.pubkey(), &r.keys, test_config(r.feed_id));
        let err = ctx.fails("init_reserve by attacker", &[ix], &[&attacker]);
        assert_ballast_err(&err, BallastError::NotMarketAdmin);
        ctx.assert_unchanged("init_reserve by attacker", &before);
        assert_not_created(&ctx, &r);
    }
}

#[test]
fn init_reserve_with_admin_signature_stripped_fails() {
    let mut ctx = TestContext::new();
    let m = ctx.setup_market();
    let r = unlisted(&mut ctx, &m, &TOKEN_PROGRAM_ID);
    let before = ctx.snapshot(&init_reserve_accounts(&m, &r));
    let mut ix = ix::init_reserve(&m.admin.pubkey(), &r.keys, test_config(r.feed_id));
    ix.accounts[0].is_signer = false;
    let err = ctx.fails("init_reserve unsigned", &[ix], &[]);
    assert_anchor_err(&err, AnchorError::AccountNotSigner);
    ctx.assert_unchanged("init_reserve unsigned", &before);
}

#[test]
fn init_reserve_twice_for_the_same_mint_fails_and_keeps_the_reserve() {
    for tp in TOKEN_PROGRAMS {
        let mut ctx = TestContext::new();
        let m = ctx.setup_market();
        let r = ctx.add_reserve(&m, &tp, 6, 1.0, test_config([0; 32]));
        let before = ctx.snapshot(&init_reserve_accounts(&m, &r));
        // Same mint, another oracle and a looser configuration.
        let mut again = r;
        again.keys.oracle = Keypair::new().pubkey();
        ctx.set_price(&again, 1.0, 0.0);
        let mut loose = test_config(r.feed_id);
        loose.loan_to_value_bps = 9_000;
        loose.liquidation_threshold_bps = 9_500;
        let ix = ix::init_reserve(&m.admin.pubkey(), &again.keys, loose);
        let err = ctx.fails("init_reserve again", &[ix], &[&m.admin]);
        // The system program refuses to allocate an account already in use
        // (SystemError::AccountAlreadyInUse = 0).
        assert_eq!(
            err,
            TransactionError::InstructionError(0, InstructionError::Custom(0)),
            "{err:?}"
        );
        ctx.assert_unchanged("init_reserve again", &before);
        assert_eq!(ctx.reserve(&r).oracle, r.keys.oracle);
    }
}

#[test]
fn init_reserve_rejects_every_invalid_configuration() {
    let mut ctx = TestContext::new();
    let m = ctx.setup_market();
    let r = unlisted(&mut ctx, &m, &TOKEN_PROGRAM_ID);
    let before = ctx.snapshot(&init_reserve_accounts(&m, &r));
    for (label, config, expected) in bad_configs(r.feed_id) {
        let ix = ix::init_reserve(&m.admin.pubkey(), &r.keys, config);
        let err = ctx.fails(label, &[ix], &[&m.admin]);
        assert_ballast_err(&err, expected);
        ctx.assert_unchanged(label, &before);
    }
    assert_not_created(&ctx, &r);
    // The valid configuration goes through on the same accounts.
    let ix = ix::init_reserve(&m.admin.pubkey(), &r.keys, test_config(r.feed_id));
    ctx.ok("init_reserve valid", &[ix], &[&m.admin]);
}

#[test]
fn init_reserve_refuses_token_2022_mints_with_dangerous_extensions() {
    for ext in [
        ExtensionType::TransferFeeConfig,
        ExtensionType::PermanentDelegate,
        ExtensionType::NonTransferable,
        // Issue 13: its holder could close the mint at zero supply and
        // re-create it at the same address with other decimals.
        ExtensionType::MintCloseAuthority,
    ] {
        let mut ctx = TestContext::new();
        let m = ctx.setup_market();
        let mint = ctx.create_token_2022_mint_with(6, &[ext]);
        let r = unlisted_mint(&mut ctx, &m, &mint, &TOKEN_2022_PROGRAM_ID);
        let before = ctx.snapshot(&init_reserve_accounts(&m, &r));
        let ix = ix::init_reserve(&m.admin.pubkey(), &r.keys, test_config(r.feed_id));
        let err = ctx.fails("init_reserve extension mint", &[ix], &[&m.admin]);
        assert_ballast_err(&err, BallastError::UnsupportedMintExtension);
        ctx.assert_unchanged("init_reserve extension mint", &before);
        assert_not_created(&ctx, &r);
    }
}

#[test]
fn init_reserve_with_the_wrong_token_program_fails() {
    for (mint_program, passed) in [
        (TOKEN_PROGRAM_ID, TOKEN_2022_PROGRAM_ID),
        (TOKEN_2022_PROGRAM_ID, TOKEN_PROGRAM_ID),
    ] {
        let mut ctx = TestContext::new();
        let m = ctx.setup_market();
        let mut r = unlisted(&mut ctx, &m, &mint_program);
        r.keys.token_program = passed;
        let before = ctx.snapshot(&init_reserve_accounts(&m, &r));
        let ix = ix::init_reserve(&m.admin.pubkey(), &r.keys, test_config(r.feed_id));
        let err = ctx.fails("init_reserve wrong token program", &[ix], &[&m.admin]);
        // The vault `init` (a CPI to the token program passed) runs before
        // the `mint::token_program` constraint, and the token program itself
        // refuses a mint it does not own.
        assert_eq!(
            err,
            TransactionError::InstructionError(0, InstructionError::IncorrectProgramId),
            "{err:?}"
        );
        ctx.assert_unchanged("init_reserve wrong token program", &before);
        assert_not_created(&ctx, &r);
    }
}

#[test]
fn init_reserve_rejects_bad_oracles() {
    let mut ctx = TestContext::new();
    let m = ctx.setup_market();
    let r = unlisted(&mut ctx, &m, &TOKEN_PROGRAM_ID);
    let good = PythPrice::usd(r.feed_id, 1.0, ctx.clock().unix_timestamp);
    let before = ctx.snapshot(&init_reserve_accounts(&m, &r));

    // A valid PriceUpdateV2 image owned by another program.
    ctx.set_raw_account(&r.keys.oracle, ballast::ID, good.to_account_data())
        .unwrap();
    let ix = ix::init_reserve(&m.admin.pubkey(), &r.keys, test_config(r.feed_id));
    let err = ctx.fails("oracle wrong owner", std::slice::from_ref(&ix), &[&m.admin]);
    assert_ballast_err(&err, BallastError::OracleWrongOwner);

    // Owned by the Pyth receiver but not a PriceUpdateV2.
    ctx.set_raw_account(&r.keys.oracle, PYTH_RECEIVER, vec![7u8; 134])
        .unwrap();
    let err = ctx.fails("oracle garbage", std::slice::from_ref(&ix), &[&m.admin]);
    assert_ballast_err(&err, BallastError::OracleDecodeFailed);

    // Another feed.
    let mut other = good;
    other.feed_id = [9; 32];
    ctx.set_pyth(&r, &other);
    let err = ctx.fails("oracle other feed", std::slice::from_ref(&ix), &[&m.admin]);
    assert_ballast_err(&err, BallastError::OracleFeedMismatch);

    ctx.assert_unchanged("init_reserve bad oracles", &before);
    assert_not_created(&ctx, &r);
    ctx.set_pyth(&r, &good);
    ctx.ok("init_reserve good oracle", &[ix], &[&m.admin]);
}

#[test]
fn init_reserve_with_addresses_off_their_seeds_fails() {
    let mut ctx = TestContext::new();
    let m = ctx.setup_market();
    let r = unlisted(&mut ctx, &m, &TOKEN_PROGRAM_ID);
    let other = unlisted(&mut ctx, &m, &TOKEN_PROGRAM_ID);
    let stray = Keypair::new().pubkey();
    // Indices in `init_reserve`'s account list.
    const RESERVE: usize = 3;
    const AUTHORITY: usize = 4;
    const LIQUIDITY: usize = 5;
    const INSURANCE: usize = 6;
    for (label, slot, address) in [
        ("reserve at a stray address", RESERVE, stray),
        ("reserve PDA of another mint", RESERVE, other.keys.reserve),
        ("market authority of nobody", AUTHORITY, stray),
        ("liquidity vault at a stray address", LIQUIDITY, stray),
        (
            "insurance vault as liquidity vault",
            LIQUIDITY,
            r.keys.insurance_vault,
        ),
        (
            "liquidity vault as insurance vault",
            INSURANCE,
            r.keys.liquidity_vault,
        ),
        (
            "insurance vault of another reserve",
            INSURANCE,
            other.keys.insurance_vault,
        ),
    ] {
        let mut ix = ix::init_reserve(&m.admin.pubkey(), &r.keys, test_config(r.feed_id));
        ix.accounts[slot].pubkey = address;
        let mut watched = init_reserve_accounts(&m, &r);
        watched.extend(init_reserve_accounts(&m, &other));
        watched.push(stray);
        let before = ctx.snapshot(&watched);
        let err = ctx.fails(label, &[ix], &[&m.admin]);
        println!("case: {label} -> {err:?}");
        assert_anchor_err(&err, AnchorError::ConstraintSeeds);
        ctx.assert_unchanged(label, &before);
    }
    assert_not_created(&ctx, &r);
}

#[test]
fn init_reserve_with_a_token_account_as_mint_fails() {
    let mut ctx = TestContext::new();
    let m = ctx.setup_market();
    let real = ctx.create_mint(&TOKEN_PROGRAM_ID, 6).unwrap();
    let not_a_mint = ctx.create_token_account(&real, &m.admin.pubkey()).unwrap();
    let r = unlisted_mint(&mut ctx, &m, &not_a_mint, &TOKEN_PROGRAM_ID);
    let before = ctx.snapshot(&init_reserve_accounts(&m, &r));
    let ix = ix::init_reserve(&m.admin.pubkey(), &r.keys, test_config(r.feed_id));
    let err = ctx.fails("token account as mint", &[ix], &[&m.admin]);
    // The mint does not unpack as an SPL mint.
    assert_eq!(
        err,
        TransactionError::InstructionError(0, InstructionError::InvalidAccountData),
        "{err:?}"
    );
    ctx.assert_unchanged("token account as mint", &before);
    assert_not_created(&ctx, &r);
}

const PYTH_RECEIVER: Address = ballast_keeper::accounts::PYTH_RECEIVER_ID;

// ---------------------------------------------------------------------------
// update_reserve_config
// ---------------------------------------------------------------------------

#[test]
fn update_reserve_config_by_non_admin_fails_with_not_market_admin() {
    let mut ctx = TestContext::new();
    let m = ctx.setup_market();
    let r = ctx.add_reserve(&m, &TOKEN_PROGRAM_ID, 6, 1.0, test_config([0; 32]));
    let attacker = ctx.funded_user(1);
    let before = ctx.snapshot(&[m.market, r.keys.reserve]);
    let mut greedy = ctx.reserve(&r).config;
    greedy.loan_to_value_bps = 9_800;
    greedy.liquidation_threshold_bps = 9_900;
    let ix = ix::update_reserve_config(&attacker.pubkey(), &r.keys, greedy);
    let err = ctx.fails("update_reserve_config by attacker", &[ix], &[&attacker]);
    assert_ballast_err(&err, BallastError::NotMarketAdmin);
    ctx.assert_unchanged("update_reserve_config by attacker", &before);
}

#[test]
fn update_reserve_config_with_admin_signature_stripped_fails() {
    let mut ctx = TestContext::new();
    let m = ctx.setup_market();
    let r = ctx.add_reserve(&m, &TOKEN_PROGRAM_ID, 6, 1.0, test_config([0; 32]));
    let before = ctx.snapshot(&[m.market, r.keys.reserve]);
    let mut ix = ix::update_reserve_config(&m.admin.pubkey(), &r.keys, ctx.reserve(&r).config);
    ix.accounts[0].is_signer = false;
    let err = ctx.fails("update_reserve_config unsigned", &[ix], &[]);
    assert_anchor_err(&err, AnchorError::AccountNotSigner);
    ctx.assert_unchanged("update_reserve_config unsigned", &before);
}

#[test]
fn admin_of_another_market_cannot_reconfigure_a_reserve() {
    let mut ctx = TestContext::new();
    let victim = ctx.setup_market();
    let r = ctx.add_reserve(&victim, &TOKEN_PROGRAM_ID, 6, 1.0, test_config([0; 32]));
    // The attacker owns a market of his own and passes it with the victim's
    // reserve: he is the admin of the market passed, not of the reserve's.
    let attacker = ctx.setup_market();
    let before = ctx.snapshot(&[victim.market, attacker.market, r.keys.reserve]);
    let mut greedy = ctx.reserve(&r).config;
    greedy.loan_to_value_bps = 9_800;
    greedy.liquidation_threshold_bps = 9_900;
    let mut keys = r.keys;
    keys.market = attacker.market;
    let ix = ix::update_reserve_config(&attacker.admin.pubkey(), &keys, greedy);
    let err = ctx.fails("foreign admin", &[ix], &[&attacker.admin]);
    assert_ballast_err(&err, BallastError::WrongMarket);
    // With the victim's market instead, he is not its admin.
    let ix = ix::update_reserve_config(&attacker.admin.pubkey(), &r.keys, greedy);
    let err = ctx.fails("foreign admin, real market", &[ix], &[&attacker.admin]);
    assert_ballast_err(&err, BallastError::NotMarketAdmin);
    ctx.assert_unchanged("foreign admin", &before);
}

#[test]
fn update_reserve_config_rejects_every_invalid_configuration() {
    let mut ctx = TestContext::new();
    let m = ctx.setup_market();
    let r = ctx.add_reserve(&m, &TOKEN_PROGRAM_ID, 6, 1.0, test_config([0; 32]));
    ctx.warp_seconds(10);
    ctx.set_price(&r, 1.0, 0.0);
    let before = ctx.snapshot(&[m.market, r.keys.reserve]);
    for (label, config, expected) in bad_configs(r.feed_id) {
        let ix = ix::update_reserve_config(&m.admin.pubkey(), &r.keys, config);
        let err = ctx.fails(label, &[ix], &[&m.admin]);
        assert_ballast_err(&err, expected);
        ctx.assert_unchanged(label, &before);
    }
}

#[test]
fn update_reserve_config_rejects_bad_oracles() {
    let mut ctx = TestContext::new();
    let m = ctx.setup_market();
    let r = ctx.add_reserve(&m, &TOKEN_PROGRAM_ID, 6, 1.0, test_config([0; 32]));
    let config = ctx.reserve(&r).config;
    let mut new = r;
    new.keys.oracle = Keypair::new().pubkey();
    let good = PythPrice::usd(r.feed_id, 1.0, ctx.clock().unix_timestamp);
    let before = ctx.snapshot(&[m.market, r.keys.reserve]);
    let ix = ix::update_reserve_config(&m.admin.pubkey(), &new.keys, config);

    ctx.set_raw_account(
        &new.keys.oracle,
        anchor_lang::system_program::ID,
        good.to_account_data(),
    )
    .unwrap();
    let err = ctx.fails(
        "new oracle wrong owner",
        std::slice::from_ref(&ix),
        &[&m.admin],
    );
    assert_ballast_err(&err, BallastError::OracleWrongOwner);

    ctx.set_raw_account(&new.keys.oracle, PYTH_RECEIVER, vec![0u8; 134])
        .unwrap();
    let err = ctx.fails("new oracle garbage", std::slice::from_ref(&ix), &[&m.admin]);
    assert_ballast_err(&err, BallastError::OracleDecodeFailed);

    let mut other = good;
    other.feed_id = [3; 32];
    ctx.set_pyth(&new, &other);
    let err = ctx.fails(
        "new oracle other feed",
        std::slice::from_ref(&ix),
        &[&m.admin],
    );
    assert_ballast_err(&err, BallastError::OracleFeedMismatch);

    // A new feed id in the config that the (unchanged) oracle does not carry.
    let mut switched = config;
    switched.oracle_feed_id = [3; 32];
    let ix2 = ix::update_reserve_config(&m.admin.pubkey(), &r.keys, switched);
    let err = ctx.fails("config feed != oracle feed", &[ix2], &[&m.admin]);
    assert_ballast_err(&err, BallastError::OracleFeedMismatch);

    // A good price of the feed in an account that is not the feed's push
    // account (tests/tests/integration/oracle_authority.rs).
    ctx.set_pyth(&new, &good);
    let err = ctx.fails(
        "new oracle not the push feed",
        std::slice::from_ref(&ix),
        &[&m.admin],
    );
    assert_ballast_err(&err, BallastError::OracleNotPushFeed);
    ctx.assert_unchanged("update_reserve_config bad oracles", &before);
    let ix = ix::update_reserve_config(&m.admin.pubkey(), &r.keys, config);
    ctx.ok("update_reserve_config on the push feed", &[ix], &[&m.admin]);
    assert_eq!(ctx.reserve(&r).oracle, r.keys.oracle);
}

#[test]
fn update_reserve_config_on_accounts_that_are_not_reserves_fails() {
    let mut ctx = TestContext::new();
    let m = ctx.setup_market();
    let r = ctx.add_reserve(&m, &TOKEN_PROGRAM_ID, 6, 1.0, test_config([0; 32]));
    let (user, _) = ctx.user_with_tokens(&r, 0);
    let o = ctx.open_obligation(&user, &m.market, 0);
    let config = ctx.reserve(&r).config;
    let forged = ctx.forge_copy(&r.keys.reserve, TOKEN_PROGRAM_ID);
    let before = ctx.snapshot(&[m.market, r.keys.reserve, o, forged]);
    for (label, target, expected) in [
        (
            "obligation as reserve",
            o,
            AnchorError::AccountDiscriminatorMismatch,
        ),
        (
            "market as reserve",
            m.market,
            AnchorError::AccountDiscriminatorMismatch,
        ),
        (
            "forged reserve",
            forged,
            AnchorError::AccountOwnedByWrongProgram,
        ),
    ] {
        let mut keys = r.keys;
        keys.reserve = target;
        let ix = ix::update_reserve_config(&m.admin.pubkey(), &keys, config);
        let err = ctx.fails(label, &[ix], &[&m.admin]);
        assert_anchor_err(&err, expected);
    }
    ctx.assert_unchanged("update_reserve_config non-reserves", &before);
}

// ---------------------------------------------------------------------------
// accrue_interest
// ---------------------------------------------------------------------------

#[test]
fn accrue_interest_on_accounts_that_are_not_reserves_fails() {
    let mut ctx = TestContext::new();
    let l = ctx.lending(&TOKEN_PROGRAM_ID);
    let forged = ctx.forge_copy(&l.debt.keys.reserve, anchor_lang::system_program::ID);
    let mut accounts = l.accounts();
    accounts.push(forged);
    let before = ctx.snapshot(&accounts);
    for (label, target, expected) in [
        (
            "obligation",
            l.ob,
            AnchorError::AccountDiscriminatorMismatch,
        ),
        (
            "market",
            l.m.market,
            AnchorError::AccountDiscriminatorMismatch,
        ),
        (
            "forged reserve",
            forged,
            AnchorError::AccountOwnedByWrongProgram,
        ),
        (
            "token vault",
            l.debt.keys.liquidity_vault,
            AnchorError::AccountOwnedByWrongProgram,
        ),
    ] {
        let err = ctx.fails(label, &[ix::accrue_interest(&target)], &[]);
        assert_anchor_err(&err, expected);
    }
    ctx.assert_unchanged("accrue_interest non-reserves", &before);
}

#[test]
fn accrue_interest_is_permissionless_and_only_moves_interest() {
    let mut ctx = TestContext::new();
    let l = ctx.lending(&TOKEN_PROGRAM_ID);
    ctx.borrow(
        &l.borrower,
        &l.debt,
        &l.ob,
        &l.b_debt,
        l.debt.units(1_000.0),
    );
    let before = ctx.reserve(&l.debt);
    let vault = ctx.token_balance(&l.debt.keys.liquidity_vault).unwrap();
    ctx.warp_seconds(86_400);
    // Sent by the fee payer alone: nobody of the market signs.
    ctx.ok("accrue", &[ix::accrue_interest(&l.debt.keys.reserve)], &[]);
    let after = ctx.reserve(&l.debt);
    assert!(after.borrow_index.get() > before.borrow_index.get());
    assert!(after.protocol_fees.get() > before.protocol_fees.get());
    assert_eq!(after.available_amount, before.available_amount);
    assert_eq!(after.deposit_shares, before.deposit_shares);
    assert_eq!(after.borrow_shares, before.borrow_shares);
    assert_eq!(after.config, before.config);
    assert_eq!(
        ctx.token_balance(&l.debt.keys.liquidity_vault).unwrap(),
        vault
    );
    // Accruing again in the same second changes nothing.
    let snap = ctx.snapshot(&[l.debt.keys.reserve]);
    ctx.ok(
        "accrue again",
        &[ix::accrue_interest(&l.debt.keys.reserve)],
        &[],
    );
    ctx.assert_unchanged("accrue again", &snap);
}
