//! Adversarial tests of the oracle checks and of the health remaining
//! accounts of `borrow` and `withdraw`: each oracle defect (stale, confidence
//! too wide, wrong feed, partial verification, wrong owner, not the
//! reserve's account, invalid price, undecodable) raises its own error on
//! borrow and on withdraw from an obligation with debt, while deposit, repay
//! and debt-free withdraws need no oracle; malformed health accounts
//! (missing, duplicated, reordered, extra, substituted pairs) are refused.
//! Every failure leaves every account involved byte-for-byte unchanged.

use ballast::errors::BallastError;
use ballast_keeper::accounts::PYTH_RECEIVER_ID;
use ballast_tests::*;
use solana_instruction::{AccountMeta, Instruction};
use solana_transaction_error::TransactionError;

/// A [`Lending`] fixture whose borrower already owes 500 USDC, plus a
/// second market listing the same collateral mint (its reserve and oracle
/// are used as substitutes).
struct Fixture {
    l: Lending,
    /// The same SOL mint's reserve in another market.
    foreign: TestReserve,
}

fn fixture(ctx: &mut TestContext, tp: &Address) -> Fixture {
    let l = ctx.lending(tp);
    ctx.borrow(&l.borrower, &l.debt, &l.ob, &l.b_debt, l.debt.units(500.0));
    let o = ctx.setup_market();
    let foreign = ctx.add_reserve_for_mint(&o, &l.coll.keys.mint, 9, 20.0, test_config([0; 32]));
    Fixture { l, foreign }
}

fn pair(r: &TestReserve) -> [AccountMeta; 2] {
    [
        AccountMeta::new_readonly(r.keys.reserve, false),
        AccountMeta::new_readonly(r.keys.oracle, false),
    ]
}

fn metas(pairs: &[[AccountMeta; 2]]) -> Vec<AccountMeta> {
    pairs.iter().flat_map(|p| p.iter().cloned()).collect()
}

fn fails_unchanged(
    ctx: &mut TestContext,
    label: &str,
    ix: Instruction,
    signer: &Keypair,
    accounts: &[Address],
    expected: BallastError,
) {
    let before = ctx.snapshot(accounts);
    let err: TransactionError = ctx.fails(label, &[ix], &[signer]);
    println!("case: {label} -> {err:?}");
    assert_ballast_err(&err, expected);
    ctx.assert_unchanged(label, &before);
}

/// Writes fresh, tight, fully verified prices into both oracles of `l`.
fn fresh_prices(ctx: &mut TestContext, l: &Lending) {
    ctx.set_price(&l.coll, 20.0, 0.0);
    ctx.set_price(&l.debt, 1.0, 0.0);
}

/// One defect of the collateral reserve's oracle (or of the health accounts
/// pointing at it), and the error it must raise.
#[derive(Clone, Copy, Debug)]
enum Defect {
    /// The clock moves past the max age (60 s) of every oracle.
    ClockPastMaxAge,
    /// The collateral price was published 61 s ago.
    PublishedTooLongAgo,
    /// Only the borrowed reserve's price is stale.
    DebtOracleStale,
    /// Confidence 2% of the price plus one unit (max 2%).
    ConfidenceTooWide,
    /// Another feed id.
    WrongFeed,
    /// Partially verified (5 guardian signatures).
    PartiallyVerified,
    /// A valid `PriceUpdateV2` image owned by the system program.
    NotOwnedByPythReceiver,
    /// The same image owned by Ballast itself.
    OwnedByBallast,
    /// No account at the oracle address.
    Missing,
    /// Owned by the receiver but not a `PriceUpdateV2`.
    Undecodable,
    /// Spot price zero.
    ZeroPrice,
    /// EMA price negative.
    NegativeEma,
    /// The health accounts carry the debt reserve's oracle in the
    /// collateral's slot.
    OtherReservesOracle,
    /// The health accounts carry another account of the same feed.
    SameFeedOtherAccount,
}

const DEFECTS: [(Defect, BallastError); 14] = [
    (Defect::ClockPastMaxAge, BallastError::OracleStale),
    (Defect::PublishedTooLongAgo, BallastError::OracleStale),
    (Defect::DebtOracleStale, BallastError::OracleStale),
    (
        Defect::ConfidenceTooWide,
        BallastError::OracleConfidenceTooWide,
    ),
    (Defect::WrongFeed, BallastError::OracleFeedMismatch),
    (
        Defect::PartiallyVerified,
        BallastError::OracleNotFullyVerified,
    ),
    (
        Defect::NotOwnedByPythReceiver,
        BallastError::OracleWrongOwner,
    ),
    (Defect::OwnedByBallast, BallastError::OracleWrongOwner),
    (Defect::Missing, BallastError::OracleWrongOwner),
    (Defect::Undecodable, BallastError::OracleDecodeFailed),
    (Defect::ZeroPrice, BallastError::OracleInvalidPrice),
    (Defect::NegativeEma, BallastError::OracleInvalidPrice),
    (
        Defect::OtherReservesOracle,
        BallastError::OracleAccountMismatch,
    ),
    (
        Defect::SameFeedOtherAccount,
        BallastError::OracleAccountMismatch,
    ),
];

/// Applies `d` to the chain and returns the health accounts to pass, given
/// the correct ones (`[collateral pair, debt pair]`).
fn apply(ctx: &mut TestContext, f: &Fixture, d: Defect) -> Vec<AccountMeta> {
    let l = &f.l;
    fresh_prices(ctx, l);
    let now = ctx.clock().unix_timestamp;
    let good = PythPrice::usd(l.coll.feed_id, 20.0, now);
    let mut coll = pair(&l.coll);
    let debt = pair(&l.debt);
    match d {
        Defect::ClockPastMaxAge => ctx.warp_seconds(61),
        Defect::PublishedTooLongAgo => {
            ctx.set_pyth(&l.coll, &PythPrice::usd(l.coll.feed_id, 20.0, now - 61))
        }
        Defect::DebtOracleStale => {
            ctx.set_pyth(&l.debt, &PythPrice::usd(l.debt.feed_id, 1.0, now - 61))
        }
        Defect::ConfidenceTooWide => ctx.set_price(&l.coll, 20.0, 0.400_000_01),
        Defect::WrongFeed => ctx.set_pyth(
            &l.coll,
            &PythPrice {
                feed_id: [9; 32],
                ..good
            },
        ),
        Defect::PartiallyVerified => ctx.set_pyth_partial(&l.coll, &good, 5),
        Defect::NotOwnedByPythReceiver => ctx
            .set_raw_account(
                &l.coll.keys.oracle,
                anchor_lang::system_program::ID,
                good.to_account_data(),
            )
            .unwrap(),
        Defect::OwnedByBallast => ctx
            .set_raw_account(&l.coll.keys.oracle, ballast::ID, good.to_account_data())
            .unwrap(),
        Defect::Missing => {
            let nowhere = Keypair::new().pubkey();
            let mut r = l.coll;
            r.keys.oracle = nowhere;
            // Point the reserve at an empty address, as a sloppy
            // configuration could; the oracle slot names that address.
            ctx.patch_reserve(&l.coll, |res| res.oracle = nowhere);
            coll = pair(&r);
        }
        Defect::Undecodable => ctx
            .set_raw_account(&l.coll.keys.oracle, PYTH_RECEIVER_ID, vec![1u8; 134])
            .unwrap(),
        Defect::ZeroPrice => ctx.set_pyth(&l.coll, &PythPrice { price: 0, ..good }),
        Defect::NegativeEma => ctx.set_pyth(
            &l.coll,
            &PythPrice {
                ema_price: -1,
                ..good
            },
        ),
        Defect::OtherReservesOracle => coll[1].pubkey = l.debt.keys.oracle,
        Defect::SameFeedOtherAccount => {
            // A receiver-owned account of the same feed at another address
            // (anyone can post one with the real receiver).
            let elsewhere = Keypair::new().pubkey();
            ctx.chain.set_pyth_price(&elsewhere, &good).unwrap();
            coll[1].pubkey = elsewhere;
        }
    }
    metas(&[coll, debt])
}

/// Undoes what [`apply`] may have changed besides the prices.
fn restore(ctx: &mut TestContext, f: &Fixture, d: Defect) {
    if let Defect::Missing = d {
        let oracle = f.l.coll.keys.oracle;
        ctx.patch_reserve(&f.l.coll, |res| res.oracle = oracle);
    }
    fresh_prices(ctx, &f.l);
}

fn watched(f: &Fixture) -> Vec<Address> {
    let mut v = f.l.accounts();
    v.extend([
        f.foreign.keys.reserve,
        f.l.coll.keys.oracle,
        f.l.debt.keys.oracle,
    ]);
    v
}

// ---------------------------------------------------------------------------
// Oracle defects
// ---------------------------------------------------------------------------

#[test]
fn borrow_fails_on_each_oracle_defect_with_its_own_error() {
    for tp in TOKEN_PROGRAMS {
        let mut ctx = TestContext::new();
        let f = fixture(&mut ctx, &tp);
        let l = &f.l;
        for (defect, expected) in DEFECTS {
            let health = apply(&mut ctx, &f, defect);
            let ix = ix::borrow(
                &l.borrower.pubkey(),
                &l.debt.keys,
                &l.ob,
                &l.b_debt,
                l.debt.units(10.0),
                health,
            );
            let label = format!("borrow with {defect:?}");
            fails_unchanged(&mut ctx, &label, ix, &l.borrower, &watched(&f), expected);
            restore(&mut ctx, &f, defect);
        }
        // Healthy oracles: the same borrow goes through.
        ctx.borrow(&l.borrower, &l.debt, &l.ob, &l.b_debt, l.debt.units(10.0));
    }
}

#[test]
fn withdraw_with_debt_fails_on_each_oracle_defect_with_its_own_error() {
    for tp in TOKEN_PROGRAMS {
        let mut ctx = TestContext::new();
        let f = fixture(&mut ctx, &tp);
        let l = &f.l;
        for (defect, expected) in DEFECTS {
            let health = apply(&mut ctx, &f, defect);
            let ix = ix::withdraw(
                &l.borrower.pubkey(),
                &l.coll.keys,
                &l.ob,
                &l.b_coll,
                l.coll.units(1.0),
                health,
            );
            let label = format!("withdraw with {defect:?}");
            fails_unchanged(&mut ctx, &label, ix, &l.borrower, &watched(&f), expected);
            restore(&mut ctx, &f, defect);
        }
        ctx.withdraw(&l.borrower, &l.coll, &l.ob, &l.b_coll, l.coll.units(1.0));
    }
}

#[test]
fn oracle_age_and_confidence_limits_are_inclusive() {
    let mut ctx = TestContext::new();
    let f = fixture(&mut ctx, &TOKEN_PROGRAM_ID);
    let l = &f.l;
    // Published exactly 60 s ago (the max age), confidence exactly 2%.
    let now = ctx.clock().unix_timestamp;
    let mut p = PythPrice::usd(l.coll.feed_id, 20.0, now - 60);
    p.conf = 40_000_000;
    p.ema_conf = 40_000_000;
    ctx.set_pyth(&l.coll, &p);
    ctx.borrow(&l.borrower, &l.debt, &l.ob, &l.b_debt, l.debt.units(1.0));
    ctx.withdraw(&l.borrower, &l.coll, &l.ob, &l.b_coll, l.coll.units(1.0));
    // One second later it is stale.
    ctx.warp_seconds(1);
    ctx.set_price(&l.debt, 1.0, 0.0);
    let health = ctx.health_accounts(&l.ob, &[]);
    let ix = ix::borrow(
        &l.borrower.pubkey(),
        &l.debt.keys,
        &l.ob,
        &l.b_debt,
        1,
        health,
    );
    fails_unchanged(
        &mut ctx,
        "61 s old",
        ix,
        &l.borrower,
        &watched(&f),
        BallastError::OracleStale,
    );
}

#[test]
fn confidence_and_ema_widen_the_initial_requirement() {
    // Initial values collateral at min(spot - conf, ema - ema_conf): a 2%
    // confidence takes $30 off the $1,500 borrowing power of 100 SOL.
    let mut ctx = TestContext::new();
    let l = ctx.lending(&TOKEN_PROGRAM_ID);
    ctx.set_price(&l.coll, 20.0, 0.4);
    let health = ctx.health_accounts(&l.ob, &[&l.debt]);
    let ix = ix::borrow(
        &l.borrower.pubkey(),
        &l.debt.keys,
        &l.ob,
        &l.b_debt,
        l.debt.units(1_471.0),
        health,
    );
    fails_unchanged(
        &mut ctx,
        "borrow against the confidence-adjusted price",
        ix,
        &l.borrower,
        &l.accounts(),
        BallastError::InitialRequirementNotMet,
    );
    // A low EMA does the same with a tight spot.
    let now = ctx.clock().unix_timestamp;
    let mut p = PythPrice::usd(l.coll.feed_id, 20.0, now);
    p.ema_price = 19_600_000_000 / 10;
    ctx.set_pyth(&l.coll, &p);
    let health = ctx.health_accounts(&l.ob, &[&l.debt]);
    let ix = ix::borrow(
        &l.borrower.pubkey(),
        &l.debt.keys,
        &l.ob,
        &l.b_debt,
        l.debt.units(1_471.0),
        health,
    );
    fails_unchanged(
        &mut ctx,
        "borrow against a low EMA",
        ix,
        &l.borrower,
        &l.accounts(),
        BallastError::InitialRequirementNotMet,
    );
    ctx.borrow(
        &l.borrower,
        &l.debt,
        &l.ob,
        &l.b_debt,
        l.debt.units(1_469.0),
    );
}

// ---------------------------------------------------------------------------
// What needs no oracle
// ---------------------------------------------------------------------------

#[test]
fn deposit_and_repay_succeed_with_stale_or_broken_oracles() {
    for tp in TOKEN_PROGRAMS {
        let mut ctx = TestContext::new();
        let f = fixture(&mut ctx, &tp);
        let l = &f.l;
        ctx.mint_to(&l.coll.keys.mint, &l.b_coll, l.coll.units(5.0))
            .unwrap();
        ctx.warp_seconds(3_600);
        // Both oracles an hour old; the collateral's is not even decodable.
        ctx.set_raw_account(&l.coll.keys.oracle, PYTH_RECEIVER_ID, vec![0u8; 134])
            .unwrap();
        ctx.deposit(&l.borrower, &l.coll, &l.ob, &l.b_coll, l.coll.units(5.0));
        ctx.mint_to(&l.debt.keys.mint, &l.b_debt, l.debt.units(10.0))
            .unwrap();
        ctx.repay(&l.borrower, &l.debt, &l.ob, &l.b_debt, l.debt.units(100.0));
        assert!(ctx.obligation(&l.ob).has_debt());
        ctx.repay(&l.borrower, &l.debt, &l.ob, &l.b_debt, u64::MAX);
        assert!(!ctx.obligation(&l.ob).has_debt());
        ctx.assert_vault_reconciles(&l.debt);
        ctx.assert_vault_reconciles(&l.coll);
    }
}

#[test]
fn withdraw_without_debt_succeeds_with_stale_oracles() {
    for tp in TOKEN_PROGRAMS {
        let mut ctx = TestContext::new();
        let f = fixture(&mut ctx, &tp);
        let l = &f.l;
        ctx.warp_seconds(7_200);
        // The supplier has no debt: no health accounts, stale oracles.
        ctx.withdraw(
            &l.supplier,
            &l.debt,
            &l.so,
            &l.s_debt,
            l.debt.units(1_000.0),
        );
        assert_eq!(ctx.token_balance(&l.s_debt).unwrap(), l.debt.units(1_000.0));
        // The borrower repays (no oracle), then takes all collateral out.
        ctx.mint_to(&l.debt.keys.mint, &l.b_debt, l.debt.units(10.0))
            .unwrap();
        ctx.repay(&l.borrower, &l.debt, &l.ob, &l.b_debt, u64::MAX);
        let ix = ix::withdraw(
            &l.borrower.pubkey(),
            &l.coll.keys,
            &l.ob,
            &l.b_coll,
            u64::MAX,
            vec![],
        );
        ctx.ok("withdraw all, stale oracles", &[ix], &[&l.borrower]);
        assert_eq!(ctx.token_balance(&l.b_coll).unwrap(), l.coll.units(100.0));
        ctx.assert_vault_reconciles(&l.coll);
    }
}

// ---------------------------------------------------------------------------
// Health remaining accounts
// ---------------------------------------------------------------------------

/// Malformed health accounts for an obligation whose health reserves are
/// `[collateral, debt]`, each with the error expected.
fn malformed_health(
    f: &Fixture,
    ctx: &mut TestContext,
) -> Vec<(&'static str, Vec<AccountMeta>, BallastError)> {
    let l = &f.l;
    let (c, d, x) = (pair(&l.coll), pair(&l.debt), pair(&f.foreign));
    let forged = ctx.forge_copy(&l.coll.keys.reserve, ballast::ID);
    let forged_pair = [
        AccountMeta::new_readonly(forged, false),
        AccountMeta::new_readonly(l.coll.keys.oracle, false),
    ];
    let mismatch = BallastError::HealthAccountsMismatch;
    let mut odd = metas(&[c.clone(), d.clone()]);
    odd.pop();
    let mut swapped = c.clone();
    swapped.swap(0, 1);
    let mut writable = metas(&[c.clone(), d.clone()]);
    writable[0].is_writable = true;
    vec![
        ("no health accounts", vec![], mismatch),
        (
            "collateral pair missing",
            metas(std::slice::from_ref(&d)),
            mismatch,
        ),
        (
            "debt pair missing",
            metas(std::slice::from_ref(&c)),
            mismatch,
        ),
        ("pair duplicated", metas(&[c.clone(), c.clone()]), mismatch),
        (
            "pairs in the wrong order",
            metas(&[d.clone(), c.clone()]),
            mismatch,
        ),
        (
            "extra pair at the end",
            metas(&[c.clone(), d.clone(), x.clone()]),
            mismatch,
        ),
        (
            "extra copy of a pair at the end",
            metas(&[c.clone(), d.clone(), c.clone()]),
            mismatch,
        ),
        ("odd number of accounts", odd, mismatch),
        (
            "reserve and oracle swapped",
            metas(&[swapped, d.clone()]),
            mismatch,
        ),
        (
            "same mint's reserve of another market in the collateral slot",
            metas(&[x.clone(), d.clone()]),
            mismatch,
        ),
        (
            "Ballast-owned copy of the collateral reserve in its slot",
            metas(&[forged_pair, d.clone()]),
            mismatch,
        ),
        (
            "another reserve's oracle in the collateral slot",
            metas(&[[c[0].clone(), d[1].clone()], d.clone()]),
            BallastError::OracleAccountMismatch,
        ),
        // Control: the right accounts (one marked writable, which is
        // harmless) pass the checks, and the requirement is evaluated.
        (
            "control: correct accounts, amount past the LTV",
            writable,
            BallastError::InitialRequirementNotMet,
        ),
    ]
}

#[test]
fn borrow_rejects_malformed_health_accounts() {
    for tp in TOKEN_PROGRAMS {
        let mut ctx = TestContext::new();
        let f = fixture(&mut ctx, &tp);
        let l = &f.l;
        for (label, health, expected) in malformed_health(&f, &mut ctx) {
            // Borrowing past the LTV, so that correct accounts would fail
            // with InitialRequirementNotMet, never succeed.
            let amount = if matches!(expected, BallastError::InitialRequirementNotMet) {
                l.debt.units(2_000.0)
            } else {
                l.debt.units(10.0)
            };
            let ix = ix::borrow(
                &l.borrower.pubkey(),
                &l.debt.keys,
                &l.ob,
                &l.b_debt,
                amount,
                health,
            );
            fails_unchanged(&mut ctx, label, ix, &l.borrower, &watched(&f), expected);
        }
        ctx.borrow(&l.borrower, &l.debt, &l.ob, &l.b_debt, l.debt.units(10.0));
    }
}

#[test]
fn withdraw_with_debt_rejects_malformed_health_accounts() {
    for tp in TOKEN_PROGRAMS {
        let mut ctx = TestContext::new();
        let f = fixture(&mut ctx, &tp);
        let l = &f.l;
        for (label, health, expected) in malformed_health(&f, &mut ctx) {
            let amount = if matches!(expected, BallastError::InitialRequirementNotMet) {
                l.coll.units(90.0)
            } else {
                l.coll.units(1.0)
            };
            let ix = ix::withdraw(
                &l.borrower.pubkey(),
                &l.coll.keys,
                &l.ob,
                &l.b_coll,
                amount,
                health,
            );
            fails_unchanged(&mut ctx, label, ix, &l.borrower, &watched(&f), expected);
        }
        ctx.withdraw(&l.borrower, &l.coll, &l.ob, &l.b_coll, l.coll.units(1.0));
    }
}

#[test]
fn borrow_health_accounts_follow_position_slots_across_three_reserves() {
    // Collateral in SOL then ETH, debt in USDC: the pairs are [SOL, ETH,
    // USDC] in slot order; any permutation is refused.
    let mut ctx = TestContext::new();
    let l = ctx.lending(&TOKEN_PROGRAM_ID);
    let eth = ctx.add_reserve(
        &l.m,
        &TOKEN_2022_PROGRAM_ID,
        8,
        3_000.0,
        test_config([0; 32]),
    );
    let b_eth = ctx.token_account_for(&eth, &l.borrower.pubkey(), eth.units(1.0));
    ctx.deposit(&l.borrower, &eth, &l.ob, &b_eth, eth.units(1.0));
    let (s, e, d) = (pair(&l.coll), pair(&eth), pair(&l.debt));
    assert_eq!(
        ctx.health_accounts(&l.ob, &[&l.debt]),
        metas(&[s.clone(), e.clone(), d.clone()])
    );
    let mut accounts = l.accounts();
    accounts.extend([eth.keys.reserve, b_eth]);
    for (label, order) in [
        ("[ETH, SOL, USDC]", [e.clone(), s.clone(), d.clone()]),
        ("[SOL, USDC, ETH]", [s.clone(), d.clone(), e.clone()]),
        ("[USDC, ETH, SOL]", [d.clone(), e.clone(), s.clone()]),
    ] {
        let ix = ix::borrow(
            &l.borrower.pubkey(),
            &l.debt.keys,
            &l.ob,
            &l.b_debt,
            l.debt.units(100.0),
            metas(&order),
        );
        fails_unchanged(
            &mut ctx,
            label,
            ix,
            &l.borrower,
            &accounts,
            BallastError::HealthAccountsMismatch,
        );
    }
    // ETH's collateral counts: 100 SOL ($1,500) + 1 ETH ($2,250) at 75%.
    ctx.borrow(
        &l.borrower,
        &l.debt,
        &l.ob,
        &l.b_debt,
        l.debt.units(3_700.0),
    );
}

/// `HealthReserveInvalid` needs a reserve key the obligation records whose
/// account is not (or no longer) a reserve of this market: a state only a
/// forger could reach (reserves are never closed nor moved). Each forgery is
/// written over the collateral reserve in place, then undone.
#[test]
fn health_refuses_a_recorded_reserve_that_is_not_a_reserve_of_this_market() {
    for tp in TOKEN_PROGRAMS {
        let mut ctx = TestContext::new();
        let f = fixture(&mut ctx, &tp);
        let l = &f.l;
        let original = ctx.svm.get_account(&l.coll.keys.reserve).unwrap();
        let foreign_market = ctx.reserve(&f.foreign).market;
        let mut obligation_image = ctx.svm.get_account(&l.so).unwrap().data;
        obligation_image.resize(original.data.len(), 0);
        type Forge = Box<dyn Fn(&mut TestContext)>;
        let coll = l.coll;
        let forgeries: Vec<(&str, Forge)> = vec![
            (
                "reserve of another market",
                Box::new(move |ctx: &mut TestContext| {
                    ctx.patch_reserve(&coll, |r| r.market = foreign_market)
                }),
            ),
            (
                "owned by another program",
                Box::new({
                    let data = original.data.clone();
                    move |ctx: &mut TestContext| {
                        ctx.set_raw_account(&coll.keys.reserve, TOKEN_PROGRAM_ID, data.clone())
                            .unwrap()
                    }
                }),
            ),
            (
                "an obligation's bytes",
                Box::new(move |ctx: &mut TestContext| {
                    ctx.set_raw_account(&coll.keys.reserve, ballast::ID, obligation_image.clone())
                        .unwrap()
                }),
            ),
        ];
        let health = ctx.health_accounts(&l.ob, &[]);
        for (label, forge) in forgeries {
            forge(&mut ctx);
            let health = health.clone();
            let ix = ix::borrow(
                &l.borrower.pubkey(),
                &l.debt.keys,
                &l.ob,
                &l.b_debt,
                l.debt.units(10.0),
                health,
            );
            fails_unchanged(
                &mut ctx,
                label,
                ix,
                &l.borrower,
                &watched(&f),
                BallastError::HealthReserveInvalid,
            );
            ctx.svm
                .set_account(l.coll.keys.reserve, original.clone())
                .unwrap();
        }
        ctx.borrow(&l.borrower, &l.debt, &l.ob, &l.b_debt, l.debt.units(10.0));
    }
}
