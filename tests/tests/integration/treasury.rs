//! The treasury strategy on the real .so: `set_treasury_strategy`,
//! `rebalance` (deploy above the buffer band, recall below it), `withdraw`
//! recalling a shortfall, the balance sheet with a strategy, the marking of
//! the deployed shares by `deposit`, `withdraw`, `liquidate` and
//! `accrue_interest` (the strategy reserve is required while shares are
//! deployed; gains and losses in the strategy are both priced in), and the
//! adversarial cases (substituted strategy accounts, bad strategies, chains
//! of strategies, changes of strategy).
//!
//! Two markets list one USDC-like mint: A holds the reserve with the buffer
//! band (10% / 20% / 30%, rehypothecation cap 50%), B the strategy reserve
//! (see [`Treasury`]); a third market C lists the same mint for the
//! substitution cases. Every move is checked to the base unit across both
//! markets ([`TestContext::assert_treasury_reconciles`]) and for token
//! conservation; every refusal for its exact error and for leaving every
//! account involved byte-for-byte unchanged.

use anchor_lang::error::ErrorCode as AnchorError;
use anchor_lang::AnchorDeserialize;
use ballast::engine::balance_sheet::BalanceSheet;
use ballast::engine::fx::FxExt;
use ballast::engine::liquidity::liquidity_coverage_bps;
use ballast::engine::treasury::{bps_of_ceil, bps_of_floor, shares_value, Move};
use ballast::errors::BallastError;
use ballast::events::{Rebalanced, TreasuryStrategySet, Withdrawn};
use ballast_tests::*;
use solana_instruction::{AccountMeta, Instruction};

const DAY: i64 = 86_400;

/// A fresh context at a day boundary (the outflow windows start there).
fn context() -> TestContext {
    let mut ctx = TestContext::new();
    ctx.set_time(1_700_000_000 - 1_700_000_000 % DAY);
    ctx
}

/// Sends `ixs`, which must fail with `expect` and leave `watch` unchanged;
/// returns the logs.
fn refused(
    ctx: &mut TestContext,
    label: &str,
    ixs: &[Instruction],
    signers: &[&Keypair],
    expect: Expect,
    watch: &[Address],
) -> Vec<String> {
    let before = ctx.snapshot(watch);
    let e = match ctx.chain.send(ixs, signers) {
        Ok(meta) => panic!("[{label}] expected failure:\n{}", meta.logs.join("\n")),
        Err(e) => e,
    };
    check(label, &e.err, expect);
    ctx.assert_unchanged(label, &before);
    e.meta.logs
}

/// `ix` with every account `from` replaced by `to` (signer and writable
/// flags kept).
fn swap(mut ix: Instruction, from: &Address, to: &Address) -> Instruction {
    let mut n = 0;
    for m in ix.accounts.iter_mut().filter(|m| m.pubkey == *from) {
        m.pubkey = *to;
        n += 1;
    }
    assert!(n > 0, "{from} not in the instruction");
    ix
}

/// Asserts that the tokens of the fixture's mint are all in `accounts`:
/// their balances add up to the mint's supply, so nothing was created,
/// destroyed or left anywhere unaccounted.
fn assert_conserved(ctx: &TestContext, label: &str, t: &Treasury, accounts: &[Address]) {
    let mut all = vec![
        t.a_usdc.keys.liquidity_vault,
        t.a_usdc.keys.insurance_vault,
        t.b_usdc.keys.liquidity_vault,
        t.b_usdc.keys.insurance_vault,
        t.b_s_usdc,
    ];
    all.extend_from_slice(accounts);
    let sum: u64 = all.iter().map(|a| ctx.token_balance(a).unwrap()).sum();
    assert_eq!(
        sum,
        ctx.mint_supply(&t.a_usdc.keys.mint),
        "[{label}] tokens conserved"
    );
}

/// A borrower in B with `sol` SOL of collateral who borrowed `usdc` USDC
/// (into their USDC token account, returned with the obligation).
fn b_borrower(
    ctx: &mut TestContext,
    t: &Treasury,
    sol: f64,
    usdc: f64,
) -> (Keypair, Address, Address) {
    let (u, u_sol) = ctx.user_with_tokens(&t.b_sol, t.b_sol.units(sol));
    let u_usdc = ctx.token_account_for(&t.b_usdc, &u.pubkey(), 0);
    let o = ctx.open_obligation(&u, &t.b.market, 0);
    ctx.deposit(&u, &t.b_sol, &o, &u_sol, t.b_sol.units(sol));
    if usdc > 0.0 {
        ctx.borrow(&u, &t.b_usdc, &o, &u_usdc, t.b_usdc.units(usdc));
    }
    (u, o, u_usdc)
}

/// Fresh prices for B's reserves (after a warp, before a borrow).
fn refresh_prices(ctx: &mut TestContext, t: &Treasury) {
    ctx.set_price(&t.b_usdc, 1.0, 0.0);
    ctx.set_price(&t.b_sol, 20.0, 0.0);
    ctx.set_price(&t.a_usdc, 1.0, 0.0);
}

/// The `Withdrawn` event of a withdrawal from A (a recall's CPI emits B's
/// own).
fn withdrawn(logs: &[String], t: &Treasury) -> Withdrawn {
    let mut e: Vec<Withdrawn> = events(logs);
    e.retain(|w| w.reserve == t.a_usdc.address());
    assert_eq!(e.len(), 1, "one withdrawal from A");
    e.remove(0)
}

/// The first event of type `E` in `logs`, which must hold exactly one.
fn one<E: anchor_lang::Event + AnchorDeserialize>(logs: &[String]) -> E {
    let mut e: Vec<E> = events(logs);
    assert_eq!(e.len(), 1, "exactly one event");
    e.remove(0)
}

/// A deploy or recall that must succeed; returns its event after checking
/// it against the state: the reserve and strategy named, liquid and deployed
/// after as stored, the tokens moved between the two vaults, and the books
/// reconciled.
fn rebalance_ok(ctx: &mut TestContext, label: &str, t: &Treasury) -> Rebalanced {
    let bal = |ctx: &TestContext, a: &Address| ctx.token_balance(a).unwrap();
    let (va, vb) = (
        bal(ctx, &t.a_usdc.keys.liquidity_vault),
        bal(ctx, &t.b_usdc.keys.liquidity_vault),
    );
    let shares_before = ctx.reserve(&t.a_usdc).treasury.deployed_shares;
    let (e, _) = ctx
        .rebalance(t)
        .unwrap_or_else(|err| panic!("[{label}] rebalance failed: {err:?}"));
    let r = ctx.reserve(&t.a_usdc);
    assert_eq!(e.reserve, t.a_usdc.address());
    assert_eq!(e.strategy_reserve, t.b_usdc.address());
    assert_eq!(e.liquid_after, r.available_amount, "[{label}]");
    assert_eq!(e.deployed_after, r.treasury.deployed_amount, "[{label}]");
    let (va2, vb2) = (
        bal(ctx, &t.a_usdc.keys.liquidity_vault),
        bal(ctx, &t.b_usdc.keys.liquidity_vault),
    );
    if e.deployed {
        assert_eq!(va - va2, e.amount, "[{label}] A's vault paid the deploy");
        assert_eq!(vb2 - vb, e.amount, "[{label}] B's vault got it");
        assert_eq!(r.treasury.deployed_shares, shares_before + e.shares);
    } else {
        assert_eq!(va2 - va, e.amount, "[{label}] A's vault got the recall");
        assert_eq!(vb - vb2, e.amount, "[{label}] B's vault paid it");
        assert_eq!(r.treasury.deployed_shares, shares_before - e.shares);
    }
    assert!(e.amount > 0 && e.shares > 0);
    ctx.assert_treasury_reconciles(label, t);
    e
}

// ---------------------------------------------------------------------------
// set_treasury_strategy
// ---------------------------------------------------------------------------

#[test]
fn set_treasury_strategy_opens_the_treasury_obligation_of_the_market_authority() {
    let mut ctx = context();
    let a = ctx.setup_market();
    let a_usdc = ctx.add_reserve(&a, &TOKEN_PROGRAM_ID, 6, 1.0, buffered_config([0; 32]));
    let a_sol = ctx.add_reserve(&a, &TOKEN_PROGRAM_ID, 9, 20.0, buffered_config([0; 32]));
    let b = ctx.setup_market();
    let b_usdc = ctx.add_reserve_for_mint(&b, &a_usdc.keys.mint, 6, 1.0, test_config([0; 32]));
    let b_sol = ctx.add_reserve_for_mint(&b, &a_sol.keys.mint, 9, 20.0, test_config([0; 32]));
    let ob = ix::treasury_obligation(&b.market, &a.market);
    let authority = ix::market_authority(&a.market).0;
    assert_eq!(ob, ix::obligation_address(&b.market, &authority, 0));
    assert!(ctx.svm.get_account(&ob).is_none());
    assert!(!ctx.reserve(&a_usdc).treasury.has_strategy());
    // B's admin consents first (without it: `StrategyNotApproved`, see
    // `grief.rs`).
    ctx.approve_strategy_user(&b, &b_usdc, &a_usdc.address());
    ctx.approve_strategy_user(&b, &b_sol, &a_sol.address());
    let b_before = ctx.snapshot(&[b.market]);
    let b_reserve_before = ctx.reserve(&b_usdc);
    assert_eq!(b_reserve_before.treasury.strategy_users, 0);

    let ix = ix::set_treasury_strategy(&a.admin.pubkey(), &a_usdc.keys, &b_usdc.keys);
    let logs = ctx.ok_logs(
        "set_treasury_strategy",
        std::slice::from_ref(&ix),
        &[&a.admin],
    );
    let e: TreasuryStrategySet = one(&logs);
    assert_eq!(e.reserve, a_usdc.address());
    assert_eq!(e.strategy_reserve, b_usdc.address());
    assert_eq!(e.strategy_obligation, ob);

    // The treasury obligation: this program's account, in B, owned by A's
    // market authority PDA (which only this program can sign for), empty.
    let acc = ctx
        .svm
        .get_account(&ob)
        .expect("treasury obligation created");
    assert_eq!(acc.owner, ballast::ID);
    let o = ctx.obligation(&ob);
    assert_eq!(o.owner, authority);
    assert_eq!(o.market, b.market);
    assert_eq!(o.index, ballast::state::TREASURY_OBLIGATION_INDEX);
    assert!(o
        .positions
        .iter()
        .all(|p| p.kind() == ballast::state::PositionKind::Empty));
    let t = ctx.reserve(&a_usdc).treasury;
    assert_eq!(t.strategy_reserve, b_usdc.address());
    assert_eq!(t.strategy_obligation, ob);
    assert_eq!((t.deployed_shares, t.deployed_amount), (0, 0));
    assert_eq!(t.last_mark_ts, ctx.clock().unix_timestamp);
    assert_eq!(t.strategy_users, 0, "A's reserve is nobody's strategy");
    ctx.assert_unchanged("B's market is not written", &b_before);
    // The strategy reserve: only its count of users moved, by one.
    let mut expected = b_reserve_before;
    expected.treasury.strategy_users = 1;
    assert_eq!(
        bytemuck::bytes_of(&ctx.reserve(&b_usdc)),
        bytemuck::bytes_of(&expected),
        "the strategy reserve: strategy_users + 1, nothing else"
    );

    // While nothing is deployed the strategy may be set again, given the
    // current strategy reserve (refused without it); the existing obligation
    // is kept as is, the count of users is unchanged, and another reserve of
    // A using a strategy in B shares the obligation.
    let kept = ctx.snapshot(&[ob]);
    refused(
        &mut ctx,
        "set again without the current strategy",
        &[ix],
        &[&a.admin],
        Expect::Ballast(BallastError::TreasuryAccountsMismatch),
        &[a.market, a_usdc.address(), b_usdc.address(), ob],
    );
    let ix = ctx.set_treasury_strategy_ix(&a.admin.pubkey(), &a_usdc.keys, &b_usdc.keys);
    ctx.ok("set again", &[ix], &[&a.admin]);
    assert_eq!(ctx.reserve(&b_usdc).treasury.strategy_users, 1);
    assert_eq!(
        ctx.reserve(&a_usdc).treasury.strategy_reserve,
        b_usdc.address()
    );
    let ix = ctx.set_treasury_strategy_ix(&a.admin.pubkey(), &a_sol.keys, &b_sol.keys);
    ctx.ok("second reserve, same strategy market", &[ix], &[&a.admin]);
    ctx.assert_unchanged("treasury obligation reused", &kept);
    assert_eq!(ctx.reserve(&b_sol).treasury.strategy_users, 1);
    assert_eq!(ctx.reserve(&b_usdc).treasury.strategy_users, 1);
    assert_eq!(ctx.reserve(&a_sol).treasury.strategy_obligation, ob);
    assert_eq!(
        ctx.reserve(&a_sol).treasury.strategy_reserve,
        b_sol.address()
    );
}

/// A refusal of a table: label, instruction, signer (none: the signature is
/// stripped) and the error.
type Refusal<'k> = (&'static str, Instruction, Option<&'k Keypair>, Expect);

/// Sends every refusal of `cases` in order, each checked for its error and
/// for leaving `watch` unchanged.
fn refuse_all(ctx: &mut TestContext, cases: Vec<Refusal>, watch: &[Address]) {
    for (label, ix, signer, expect) in cases {
        let signers: Vec<&Keypair> = signer.into_iter().collect();
        refused(ctx, label, &[ix], &signers, expect, watch);
    }
}

/// `set_treasury_strategy` of `r` to `s` signed by `who`
/// ([`TestContext::set_treasury_strategy_ix`]).
fn set_ix(ctx: &TestContext, who: &Keypair, r: &ReserveKeys, s: &ReserveKeys) -> Instruction {
    ctx.set_treasury_strategy_ix(&who.pubkey(), r, s)
}

/// The refusals of `set_treasury_strategy`: the [`Treasury`] (A's USDC
/// reserve uses B's), a SOL reserve in A, a third market C listing the USDC
/// mint, and a stranger.
struct Strategies {
    t: Treasury,
    a_sol: TestReserve,
    c: TestMarket,
    c_usdc: TestReserve,
    /// The treasury obligation in C of A's market authority.
    c_ob: Address,
    stranger: Keypair,
}

impl Strategies {
    fn new(ctx: &mut TestContext) -> Self {
        let t = ctx.treasury(&TOKEN_PROGRAM_ID, buffered_config([0; 32]));
        let a_sol = ctx.add_reserve(&t.a, &TOKEN_PROGRAM_ID, 9, 20.0, test_config([0; 32]));
        let c = ctx.setup_market();
        let c_usdc =
            ctx.add_reserve_for_mint(&c, &t.a_usdc.keys.mint, 6, 1.0, test_config([0; 32]));
        let stranger = ctx.funded_user(1);
        let c_ob = ix::treasury_obligation(&c.market, &t.a.market);
        Strategies {
            t,
            a_sol,
            c,
            c_usdc,
            c_ob,
            stranger,
        }
    }

    /// The accounts a refusal must leave unchanged.
    fn watch(&self) -> Vec<Address> {
        let t = &self.t;
        vec![
            t.a.market,
            t.a_usdc.address(),
            t.b_usdc.address(),
            self.c_usdc.address(),
            self.a_sol.address(),
            t.treasury_ob,
            self.c_ob,
            t.a.admin.pubkey(),
        ]
    }

    /// [`Strategies::watch`] plus the markets and treasury obligations of the
    /// chains of strategies.
    fn chain_watch(&self) -> Vec<Address> {
        let (a, b, c) = (self.t.a.market, self.t.b.market, self.c.market);
        let mut v = self.watch();
        v.extend([
            c,
            b,
            ix::treasury_obligation(&a, &c),
            ix::treasury_obligation(&c, &b),
            ix::treasury_obligation(&a, &b),
        ]);
        v
    }

    /// Non-admins, a stripped signature, strategies of another mint, of the
    /// same market, the reserve itself or passed with another market, a
    /// non-reserve, wrong treasury obligations and market authorities.
    fn bad_strategies(&self, ctx: &TestContext) -> Vec<Refusal<'_>> {
        let (t, c, admin) = (&self.t, &self.c, &self.t.a.admin);
        let (a, to) = (&t.a_usdc.keys, &self.c_usdc.keys);
        let not_admin = Expect::Ballast(BallastError::NotMarketAdmin);
        let invalid = Expect::Ballast(BallastError::InvalidTreasuryStrategy);
        let seeds = Expect::Anchor(AnchorError::ConstraintSeeds);
        let to_c = set_ix(ctx, admin, a, to);
        let mut unsigned = to_c.clone();
        unsigned.accounts[0].is_signer = false;
        // B's reserve passed with market C (and C's obligation PDA).
        let b_with_c = ReserveKeys {
            market: c.market,
            ..t.b_usdc.keys
        };
        let authority = ix::market_authority(&t.a.market).0;
        let ob_c = |owner: &Address, index| ix::obligation_address(&c.market, owner, index);
        let ob = |wrong: Address| swap(to_c.clone(), &self.c_ob, &wrong);
        vec![
            (
                "stranger as admin",
                set_ix(ctx, &self.stranger, a, to),
                Some(&self.stranger),
                not_admin,
            ),
            (
                "B's admin for A's reserve",
                set_ix(ctx, &t.b.admin, a, to),
                Some(&t.b.admin),
                not_admin,
            ),
            (
                "admin not signing",
                unsigned,
                None,
                Expect::Anchor(AnchorError::AccountNotSigner),
            ),
            (
                "different mint",
                set_ix(ctx, admin, a, &t.b_sol.keys),
                Some(admin),
                invalid,
            ),
            // A market lists a mint once, so a strategy in the same market is
            // another mint as well; both rules refuse it.
            (
                "reserve of the same market",
                set_ix(ctx, admin, a, &self.a_sol.keys),
                Some(admin),
                invalid,
            ),
            (
                "strategy is the reserve itself",
                set_ix(ctx, admin, a, a),
                Some(admin),
                invalid,
            ),
            (
                "strategy market is not the reserve's",
                set_ix(ctx, admin, a, &b_with_c),
                Some(admin),
                invalid,
            ),
            (
                "an obligation as the strategy reserve",
                swap(to_c.clone(), &self.c_usdc.address(), &t.b_so),
                Some(admin),
                Expect::Anchor(AnchorError::AccountDiscriminatorMismatch),
            ),
            // Wrong treasury obligation PDAs.
            ("a user's obligation in C", ob(t.b_so), Some(admin), seeds),
            (
                "the authority's obligation of index 1",
                ob(ob_c(&authority, 1)),
                Some(admin),
                seeds,
            ),
            (
                "C's admin's obligation PDA",
                ob(ob_c(&c.admin.pubkey(), 0)),
                Some(admin),
                seeds,
            ),
            (
                "the treasury obligation in B for a strategy in C",
                ob(t.treasury_ob),
                Some(admin),
                seeds,
            ),
            (
                "another market's authority",
                swap(to_c.clone(), &authority, &ix::market_authority(&c.market).0),
                Some(admin),
                seeds,
            ),
        ]
    }
}

#[test]
fn set_treasury_strategy_refuses_bad_strategies_and_non_admins() {
    let mut ctx = context();
    let s = Strategies::new(&mut ctx);
    let t = &s.t;
    let (admin, b_admin, c_admin) = (&t.a.admin, &t.b.admin, &s.c.admin);
    let (a, b, c) = (&t.a_usdc.keys, &t.b_usdc.keys, &s.c_usdc.keys);
    let invalid = Expect::Ballast(BallastError::InvalidTreasuryStrategy);
    let cases = s.bad_strategies(&ctx);
    refuse_all(&mut ctx, cases, &s.watch());

    // No chains. C's reserve may not use A's, which has a strategy of its
    // own (C -> A -> B), nor may B's, in use as A's strategy, take one
    // (A -> B -> C); a cycle (B -> A) breaks both rules.
    let chains = vec![
        (
            "the strategy has a strategy of its own (C -> A -> B)",
            set_ix(&ctx, c_admin, c, a),
            Some(c_admin),
            invalid,
        ),
        (
            "the reserve is a strategy (A -> B -> C)",
            set_ix(&ctx, b_admin, b, c),
            Some(b_admin),
            invalid,
        ),
        (
            "a cycle (B -> A -> B)",
            set_ix(&ctx, b_admin, b, a),
            Some(b_admin),
            invalid,
        ),
    ];
    refuse_all(&mut ctx, chains, &s.chain_watch());
    // The same moves are fine for a reserve that is in no chain: C's
    // reserve may use B's too (B then has two users), once B consents.
    let ix = set_ix(&ctx, c_admin, c, b);
    refused(
        &mut ctx,
        "C -> B before B's consent",
        std::slice::from_ref(&ix),
        &[c_admin],
        Expect::Ballast(BallastError::StrategyNotApproved),
        &s.chain_watch(),
    );
    ctx.approve_strategy_user(&t.b, &t.b_usdc, &s.c_usdc.address());
    ctx.ok("C -> B", &[ix], &[c_admin]);
    assert_eq!(ctx.reserve(&t.b_usdc).treasury.strategy_users, 2);
    assert_eq!(
        ctx.reserve(&s.c_usdc).treasury.strategy_reserve,
        t.b_usdc.address()
    );
    // ... and now that C's reserve has a strategy, A may not use it.
    let ix = set_ix(&ctx, admin, a, c);
    refused(
        &mut ctx,
        "the strategy has a strategy of its own (A -> C -> B)",
        &[ix],
        &[admin],
        invalid,
        &s.chain_watch(),
    );

    // Funds deployed: the strategy cannot change, nor be reset to itself
    // (that would forget the deployed shares), even given the current
    // strategy reserve; without it (or with another account in its place)
    // the change is refused before the value is even looked at.
    ctx.depositor(&t.a.market, &t.a_usdc, t.a_usdc.units(1_000.0));
    rebalance_ok(&mut ctx, "deploy", t);
    assert!(ctx.reserve(&t.a_usdc).treasury.deployed_shares > 0);
    let ix = set_ix(&ctx, admin, a, b);
    refused(
        &mut ctx,
        "reset while deployed",
        &[ix],
        &[admin],
        invalid,
        &s.watch(),
    );
    let c2 = ctx.setup_market();
    let c2_usdc = ctx.add_reserve_for_mint(&c2, &t.a_usdc.keys.mint, 6, 1.0, test_config([0; 32]));
    let mut w = s.watch();
    w.extend([
        c2_usdc.address(),
        ix::treasury_obligation(&c2.market, &t.a.market),
    ]);
    let mismatch = Expect::Ballast(BallastError::TreasuryAccountsMismatch);
    let plain = ix::set_treasury_strategy(&admin.pubkey(), a, &c2_usdc.keys);
    let wrong_current =
        ix::with_accounts(plain.clone(), [AccountMeta::new(s.c_usdc.address(), false)]);
    let deployed = vec![
        (
            "change while deployed",
            set_ix(&ctx, admin, a, &c2_usdc.keys),
            Some(admin),
            invalid,
        ),
        (
            "change without the current strategy",
            plain,
            Some(admin),
            mismatch,
        ),
        (
            "change with another reserve as the current strategy",
            wrong_current,
            Some(admin),
            mismatch,
        ),
    ];
    refuse_all(&mut ctx, deployed, &w);
    assert_eq!(ctx.reserve(&t.b_usdc).treasury.strategy_users, 2);
    assert_eq!(ctx.reserve(&c2_usdc).treasury.strategy_users, 0);
}

/// A change of strategy needs the current strategy reserve (writable: its
/// count of users goes down) and nothing of value deployed there: refused
/// while deployed, allowed once everything has been recalled. The counts of
/// users follow, and a reserve that is no longer anyone's strategy may take
/// one itself.
#[test]
fn a_strategy_changes_after_a_full_recall_and_counts_its_users() {
    let mut ctx = context();
    let t = ctx.treasury(&TOKEN_PROGRAM_ID, buffered_config([0; 32]));
    let u = |x: f64| t.a_usdc.units(x);
    let admin = t.a.admin.insecure_clone();
    let c = ctx.setup_market();
    let c_usdc = ctx.add_reserve_for_mint(&c, &t.a_usdc.keys.mint, 6, 1.0, test_config([0; 32]));
    let c_ob = ix::treasury_obligation(&c.market, &t.a.market);
    let users = |ctx: &TestContext| {
        (
            ctx.reserve(&t.b_usdc).treasury.strategy_users,
            ctx.reserve(&c_usdc).treasury.strategy_users,
        )
    };
    assert_eq!(users(&ctx), (1, 0));
    let (d, o, ta) = ctx.depositor(&t.a.market, &t.a_usdc, u(10_000.0));
    rebalance_ok(&mut ctx, "deploy", &t);
    let mut watch = t.accounts();
    watch.extend([c.market, c_usdc.address(), c_ob, o, ta]);
    let invalid = Expect::Ballast(BallastError::InvalidTreasuryStrategy);
    let mismatch = Expect::Ballast(BallastError::TreasuryAccountsMismatch);
    let change = ctx.set_treasury_strategy_ix(&admin.pubkey(), &t.a_usdc.keys, &c_usdc.keys);
    refused(
        &mut ctx,
        "change while 5,000 is deployed",
        std::slice::from_ref(&change),
        &[&admin],
        invalid,
        &watch,
    );

    // The depositor exits in full; the withdraw recalls everything.
    expect_meta(ctx.withdraw_with_recall(&d, &t, &o, &ta, u64::MAX));
    assert_eq!(ctx.token_balance(&ta).unwrap(), u(10_000.0));
    let a = ctx.reserve(&t.a_usdc).treasury;
    assert_eq!((a.deployed_shares, a.deployed_amount), (0, 0));
    ctx.assert_treasury_reconciles("after the full recall", &t);

    // Still refused (C consenting) without the current strategy reserve,
    // with another account in its place, or with it read-only (its count
    // cannot go down).
    ctx.approve_strategy_user(&c, &c_usdc, &t.a_usdc.address());
    let plain = ix::set_treasury_strategy(&admin.pubkey(), &t.a_usdc.keys, &c_usdc.keys);
    let with = |m: AccountMeta| ix::with_accounts(plain.clone(), [m]);
    for (label, ix) in [
        ("without the current strategy", plain.clone()),
        (
            "B's SOL reserve as the current strategy",
            with(AccountMeta::new(t.b_sol.address(), false)),
        ),
        (
            "the current strategy read-only",
            with(AccountMeta::new_readonly(t.b_usdc.address(), false)),
        ),
    ] {
        refused(&mut ctx, label, &[ix], &[&admin], mismatch, &watch);
    }

    // With it: the strategy is C's reserve, whose treasury obligation is
    // opened; B's reserve has no user left, C's has one.
    let logs = ctx.ok_logs("change to C", &[change], &[&admin]);
    let e: TreasuryStrategySet = one(&logs);
    assert_eq!(
        (e.reserve, e.strategy_reserve, e.strategy_obligation),
        (t.a_usdc.address(), c_usdc.address(), c_ob)
    );
    let a = ctx.reserve(&t.a_usdc).treasury;
    assert_eq!(
        (a.strategy_reserve, a.strategy_obligation),
        (c_usdc.address(), c_ob)
    );
    assert_eq!((a.deployed_shares, a.deployed_amount), (0, 0));
    assert_eq!(
        ctx.obligation(&c_ob).owner,
        ix::market_authority(&t.a.market).0
    );
    assert_eq!(users(&ctx), (0, 1));

    // B's reserve, nobody's strategy now, may take one (C's); A may then not
    // go back to B (a chain A -> B -> C).
    let b_admin = t.b.admin.insecure_clone();
    ctx.approve_strategy_user(&c, &c_usdc, &t.b_usdc.address());
    let ix = ctx.set_treasury_strategy_ix(&b_admin.pubkey(), &t.b_usdc.keys, &c_usdc.keys);
    ctx.ok("B -> C", &[ix], &[&b_admin]);
    assert_eq!(users(&ctx), (0, 2));
    let ix = ctx.set_treasury_strategy_ix(&admin.pubkey(), &t.a_usdc.keys, &t.b_usdc.keys);
    refused(&mut ctx, "back to B", &[ix], &[&admin], invalid, &watch);

    // A deploys into its new strategy.
    ctx.depositor(&t.a.market, &t.a_usdc, u(10_000.0));
    let ix = ix::rebalance(&t.a_usdc.keys, &c_usdc.keys);
    let logs = ctx.ok_logs("deploy to C", &[ix], &[]);
    let e: Rebalanced = one(&logs);
    assert!(e.deployed && e.strategy_reserve == c_usdc.address());
    assert_eq!(e.amount, u(5_000.0));
    assert_eq!(
        ctx.reserve(&t.a_usdc).treasury.deployed_shares,
        ctx.deposit_shares_of(&c_ob, &c_usdc)
    );
    assert_eq!(ctx.deposit_shares_of(&t.treasury_ob, &t.b_usdc), 0);
}

// ---------------------------------------------------------------------------
// Deploy and recall
// ---------------------------------------------------------------------------

#[test]
fn deploy_and_recall_round_trip_reconciles_across_both_markets() {
    for tp in TOKEN_PROGRAMS {
        let mut ctx = context();
        let t = ctx.treasury(&tp, buffered_config([0; 32]));
        let u = |x: f64| t.a_usdc.units(x);
        let (d1, o1, ta1) = ctx.depositor(&t.a.market, &t.a_usdc, u(6_000.0));
        let (d2, o2, ta2) = ctx.depositor(&t.a.market, &t.a_usdc, u(4_000.0));
        let (borrower, bo, b_usdc_ta) = b_borrower(&mut ctx, &t, 1_000.0, 0.0);
        let users = [ta1, ta2, b_usdc_ta];
        assert_conserved(&ctx, "setup", &t, &users);
        ctx.assert_treasury_reconciles("setup", &t);

        // 100% liquid: deploy towards the 20% target, capped at 50% of the
        // 10,000 deposited. B is fresh (1 share = 1 token).
        let e = rebalance_ok(&mut ctx, "deploy", &t);
        assert!(e.deployed);
        assert_eq!((e.amount, e.shares), (u(5_000.0), u(5_000.0)));
        assert_eq!((e.liquid_after, e.deployed_after), (u(5_000.0), u(5_000.0)));
        assert_eq!(e.mark_to_market, 0);
        let a = ctx.reserve(&t.a_usdc);
        assert_eq!(
            a.supply().unwrap(),
            ballast::engine::fx::fx_u64(u(10_000.0))
        );
        assert_eq!(ctx.reserve(&t.b_usdc).available_amount, u(15_000.0));
        assert_conserved(&ctx, "deploy", &t, &users);
        ctx.assert_books("B after deploy", &t.b_usdc, &[t.b_so, t.treasury_ob, bo]);

        // B's borrower takes 8,000 of B's 15,000 and pays interest for 30 days.
        ctx.borrow(&borrower, &t.b_usdc, &bo, &b_usdc_ta, u(8_000.0));
        ctx.assert_treasury_reconciles("B borrows", &t);
        assert_conserved(&ctx, "B borrows", &t, &users);
        ctx.warp_seconds(30 * DAY);
        refresh_prices(&mut ctx, &t);
        ctx.chain
            .mint_to(&t.a_usdc.keys.mint, &b_usdc_ta, u(100.0))
            .unwrap();
        ctx.repay(&borrower, &t.b_usdc, &bo, &b_usdc_ta, u(3_000.0));
        ctx.assert_treasury_reconciles("B repays", &t);
        assert_conserved(&ctx, "B repays", &t, &users);

        // Above the band, but the interest put the book value over the cap:
        // the rebalance recalls the excess (no deploy).
        let expected = planned(&ctx, &t);
        let e = rebalance_ok(&mut ctx, "over the cap", &t);
        assert!(!e.deployed && e.amount > 0);
        assert_eq!(Move::Recall(e.amount), expected);
        assert_within_cap(&ctx, "over the cap", &t);

        // d1 exits in full: the withdrawal recalls the vault's shortfall and
        // what keeps the cap on the 4,000-odd left.
        let liquid = ctx.reserve(&t.a_usdc).available_amount;
        let logs = {
            let meta = expect_meta(ctx.withdraw_with_recall(&d1, &t, &o1, &ta1, u64::MAX));
            meta.logs
        };
        let w = withdrawn(&logs, &t);
        let r: Rebalanced = one(&logs);
        assert!(!r.deployed);
        assert!(
            w.amount > u(6_000.0),
            "d1 earned B's interest: {}",
            w.amount
        );
        assert!(r.amount >= w.amount - liquid, "at least the shortfall");
        assert_eq!(ctx.token_balance(&ta1).unwrap(), w.amount);
        assert_eq!(ctx.deposit_shares_of(&o1, &t.a_usdc), 0);
        assert_within_cap(&ctx, "d1 exits", &t);
        ctx.assert_treasury_reconciles("d1 exits", &t);
        assert_conserved(&ctx, "d1 exits", &t, &users);

        // A day later the rebalance marks the day's interest and moves as
        // the program's plan says (the keeper's copy of it).
        ctx.warp_seconds(DAY);
        let mut b = ctx.reserve(&t.b_usdc);
        b.accrue_interest(ctx.clock().unix_timestamp).unwrap();
        let a = ctx.reserve(&t.a_usdc);
        let value = shares_value(&b, a.treasury.deployed_shares).unwrap();
        let expected = planned(&ctx, &t);
        let e = rebalance_ok(&mut ctx, "recall", &t);
        assert!(!e.deployed);
        assert!(e.mark_to_market > 0, "a gain is marked");
        assert_eq!(
            e.mark_to_market,
            (value - a.treasury.deployed_amount) as i64
        );
        assert_eq!(Move::Recall(e.amount), expected);
        assert_within_cap(&ctx, "recall", &t);
        assert_conserved(&ctx, "recall", &t, &users);

        // d2 exits in full, with more than they put in.
        let meta = expect_meta(ctx.withdraw_with_recall(&d2, &t, &o2, &ta2, u64::MAX));
        let w = withdrawn(&meta.logs, &t);
        assert!(
            w.amount > u(4_000.0),
            "d2 earned B's interest: {}",
            w.amount
        );
        assert_eq!(ctx.token_balance(&ta2).unwrap(), w.amount);
        ctx.assert_treasury_reconciles("d2 exits", &t);
        assert_conserved(&ctx, "d2 exits", &t, &users);
        // Nothing of the depositors is left in A or in B's treasury position.
        let a = ctx.reserve(&t.a_usdc);
        assert_eq!(a.deposit_shares, 0);
        assert_eq!(a.available_amount, 0);
        assert_eq!(
            (a.treasury.deployed_shares, a.treasury.deployed_amount),
            (0, 0)
        );
        assert_eq!(
            ctx.token_balance(&t.a_usdc.keys.liquidity_vault).unwrap(),
            0
        );
        ctx.assert_books("B at the end", &t.b_usdc, &[t.b_so, t.treasury_ob, bo]);
    }
}

/// What `rebalance` of the fixture would do now: the program's own plan on
/// copies of both reserves (the keeper's `tasks::rebalance::plan`).
fn planned(ctx: &TestContext, t: &Treasury) -> Move {
    let now = ctx.clock().unix_timestamp;
    ballast_keeper::tasks::rebalance::plan(ctx.reserve(&t.a_usdc), ctx.reserve(&t.b_usdc), now)
        .expect("a move")
}

/// Asserts `deployed <= rehypothecation cap x deposits` (rounded down) for
/// A's reserve as stored.
fn assert_within_cap(ctx: &TestContext, label: &str, t: &Treasury) {
    let a = ctx.reserve(&t.a_usdc);
    let deposits = a.supply().unwrap().to_floor_u64().unwrap();
    let cap = bps_of_floor(deposits, a.config.liquidity.rehypothecation_cap_bps);
    assert!(
        a.treasury.deployed_amount <= cap,
        "[{label}] deployed {} above the cap {cap} on {deposits}",
        a.treasury.deployed_amount
    );
}

/// Unwraps a transaction result into its metadata.
fn expect_meta(
    res: ballast_keeper::chain::embedded::TransactionResult,
) -> ballast_keeper::chain::embedded::TxOk {
    match res {
        Ok(m) => m,
        Err(e) => panic!("{:?}\n{}", e.err, e.meta.logs.join("\n")),
    }
}

#[test]
fn deploys_stay_within_the_rehypothecation_cap() {
    let mut ctx = context();
    let t = ctx.treasury(&TOKEN_PROGRAM_ID, buffered_config([0; 32]));
    let u = |x: f64| t.a_usdc.units(x);
    let (_d1, _, _) = ctx.depositor(&t.a.market, &t.a_usdc, u(10_000.0));
    let e = rebalance_ok(&mut ctx, "first deploy", &t);
    assert_eq!(
        e.amount,
        u(5_000.0),
        "the 50% cap binds before the 20% target"
    );
    let within_cap = |ctx: &TestContext| {
        let a = ctx.reserve(&t.a_usdc);
        let deposits = ballast::engine::fx::FxExt::to_floor_u64(a.supply().unwrap()).unwrap();
        assert!(a.treasury.deployed_amount <= bps_of_floor(deposits, 5_000));
        (a.treasury.deployed_amount, deposits)
    };
    assert_eq!(within_cap(&ctx), (u(5_000.0), u(10_000.0)));
    // Still 50% liquid (above the 30% band) but at the cap.
    let watch = t.accounts();
    let logs = refused(
        &mut ctx,
        "at the cap",
        &[t.rebalance_ix()],
        &[],
        Expect::Ballast(BallastError::RehypothecationCapReached),
        &watch,
    );
    assert!(
        logs.iter()
            .any(|l| l.contains("deployed 5000000000 of a cap of 5000000000")),
        "the log says how much is deployed and the cap:\n{}",
        logs.join("\n")
    );
    // 2,000 more deposited: 7,000 liquid of 12,000; the cap leaves room for
    // 1,000 although 4,600 would reach the target.
    ctx.depositor(&t.a.market, &t.a_usdc, u(2_000.0));
    let e = rebalance_ok(&mut ctx, "second deploy", &t);
    assert_eq!(e.amount, u(1_000.0));
    assert_eq!(within_cap(&ctx), (u(6_000.0), u(12_000.0)));
    refused(
        &mut ctx,
        "at the cap again",
        &[t.rebalance_ix()],
        &[],
        Expect::Ballast(BallastError::RehypothecationCapReached),
        &watch,
    );
}

#[test]
fn rebalance_refuses_inside_the_band_and_on_both_edges() {
    let mut ctx = context();
    let mut cfg = buffered_config([0; 32]);
    cfg.liquidity.rehypothecation_cap_bps = 10_000;
    let t = ctx.treasury(&TOKEN_PROGRAM_ID, cfg);
    let u = |x: f64| t.a_usdc.units(x);
    ctx.depositor(&t.a.market, &t.a_usdc, u(10_000.0));
    let e = rebalance_ok(&mut ctx, "deploy to the target", &t);
    assert_eq!(e.amount, u(8_000.0));
    assert_eq!(e.liquid_after, u(2_000.0), "exactly 20% liquid");
    let watch = t.accounts();
    let inside = Expect::Ballast(BallastError::InsideBufferBand);
    refused(
        &mut ctx,
        "at the target",
        &[t.rebalance_ix()],
        &[],
        inside,
        &watch,
    );

    let band = |ctx: &mut TestContext, min: u16, target: u16, max: u16| {
        ctx.update_config(&t.a, &t.a_usdc, |c| {
            c.liquidity.buffer_min_bps = min;
            c.liquidity.buffer_target_bps = target;
            c.liquidity.buffer_max_bps = max;
        })
    };
    // 20% liquid exactly on the upper edge, then on the lower edge.
    band(&mut ctx, 1_000, 2_000, 2_000);
    refused(
        &mut ctx,
        "on buffer_max",
        &[t.rebalance_ix()],
        &[],
        inside,
        &watch,
    );
    band(&mut ctx, 2_000, 2_000, 3_000);
    refused(
        &mut ctx,
        "on buffer_min",
        &[t.rebalance_ix()],
        &[],
        inside,
        &watch,
    );
    // One bp past the lower edge: recall up to the (rounded up) target.
    band(&mut ctx, 2_001, 2_001, 3_000);
    let e = rebalance_ok(&mut ctx, "1 bp below the band", &t);
    assert!(!e.deployed);
    assert_eq!(e.amount, u(1.0));
    assert_eq!(e.liquid_after, u(2_001.0));
    // One bp past the upper edge: deploy back down to the target.
    band(&mut ctx, 1_000, 2_000, 2_000);
    let e = rebalance_ok(&mut ctx, "1 bp above the band", &t);
    assert!(e.deployed);
    assert_eq!(e.amount, u(1.0));
    assert_eq!(e.liquid_after, u(2_000.0));
    refused(
        &mut ctx,
        "back at the target",
        &[t.rebalance_ix()],
        &[],
        inside,
        &watch,
    );
}

#[test]
fn a_recall_with_nothing_recallable_is_refused_until_the_strategy_can_pay() {
    let mut ctx = context();
    let t = ctx.treasury(&TOKEN_PROGRAM_ID, buffered_config([0; 32]));
    let u = |x: f64| t.a_usdc.units(x);
    // B's outflow limiter: 1,000 a day, used up by B's own supplier.
    ctx.update_config(&t.b, &t.b_usdc, |c| {
        c.liquidity.outflow_window_secs = DAY as u32;
        c.liquidity.outflow_cap = 1_000_000_000;
    });
    ctx.depositor(&t.a.market, &t.a_usdc, u(10_000.0));
    rebalance_ok(&mut ctx, "deploy", &t);
    // Two windows on: the limiter nets inflows, and the setup's deposits and
    // the deploy no longer credit B's window.
    ctx.warp_seconds(2 * DAY);
    refresh_prices(&mut ctx, &t);
    let supplier = t.b_supplier.insecure_clone();
    ctx.withdraw(&supplier, &t.b_usdc, &t.b_so, &t.b_s_usdc, u(1_000.0));
    // A's admin raises the band to 60/70/80%: 50% liquid is below it (a
    // withdrawal can no longer leave A below its band: it would recall, or
    // be refused); B lets nothing out.
    ctx.update_config(&t.a, &t.a_usdc, |c| {
        c.liquidity.buffer_min_bps = 6_000;
        c.liquidity.buffer_target_bps = 7_000;
        c.liquidity.buffer_max_bps = 8_000;
    });
    let watch = t.accounts();
    refused(
        &mut ctx,
        "nothing recallable",
        &[t.rebalance_ix()],
        &[],
        Expect::Ballast(BallastError::NothingRecallable),
        &watch,
    );
    // The balance sheet counts nothing recallable in the coverage either.
    let s = sheet(&mut ctx, &t);
    assert_eq!(
        s.liquidity_coverage_bps,
        liquidity_coverage_bps(s.liquid, 0, s.liabilities, 2_500)
    );

    // Two windows later B's limiter has room again: a day's 1,000 of the
    // 2,000 the 70% target wants.
    ctx.warp_seconds(2 * DAY);
    let e = rebalance_ok(&mut ctx, "recall", &t);
    assert!(!e.deployed);
    assert_eq!(e.amount, u(1_000.0));
    assert_eq!(e.liquid_after, u(6_000.0));
}

/// Issue 13: `rebalance` checked only its own market, so anyone could push
/// liquidity into a paused strategy market, where `withdraw` (and so every
/// recall) is refused.
#[test]
fn a_deploy_into_a_paused_strategy_market_is_refused() {
    let mut ctx = context();
    let t = ctx.treasury(&TOKEN_PROGRAM_ID, buffered_config([0; 32]));
    let u = |x: f64| t.a_usdc.units(x);
    ctx.depositor(&t.a.market, &t.a_usdc, u(10_000.0));
    ctx.set_paused(&t.b, true);
    let watch = t.accounts();
    refused(
        &mut ctx,
        "deploy into a paused strategy market",
        &[t.rebalance_ix()],
        &[],
        Expect::Ballast(BallastError::StrategyMarketPaused),
        &watch,
    );
    assert_eq!(ctx.reserve(&t.a_usdc).treasury.deployed_amount, 0);
    ctx.set_paused(&t.b, false);
    let e = rebalance_ok(&mut ctx, "deploy once unpaused", &t);
    assert!(e.deployed);
}

#[test]
fn deploy_is_refused_while_paused_but_recall_is_not() {
    let mut ctx = context();
    let t = ctx.treasury(&TOKEN_PROGRAM_ID, buffered_config([0; 32]));
    let u = |x: f64| t.a_usdc.units(x);
    ctx.depositor(&t.a.market, &t.a_usdc, u(10_000.0));
    ctx.set_paused(&t.a, true);
    let watch = t.accounts();
    refused(
        &mut ctx,
        "deploy while paused",
        &[t.rebalance_ix()],
        &[],
        Expect::Ballast(BallastError::MarketPaused),
        &watch,
    );
    ctx.set_paused(&t.a, false);
    rebalance_ok(&mut ctx, "deploy", &t);
    // The admin raises the band to 60/70/80%: 50% liquid is below it (a
    // withdrawal can no longer leave the reserve below the band: it recalls).
    ctx.update_config(&t.a, &t.a_usdc, |c| {
        c.liquidity.buffer_min_bps = 6_000;
        c.liquidity.buffer_target_bps = 7_000;
        c.liquidity.buffer_max_bps = 8_000;
    });
    ctx.set_paused(&t.a, true);
    // Recalling while paused only de-risks, so it is allowed.
    let e = rebalance_ok(&mut ctx, "recall while paused", &t);
    assert!(!e.deployed);
    assert_eq!(e.liquid_after, bps_of_ceil(u(10_000.0), 7_000));
}

#[test]
fn the_strategys_deposit_cap_binds_the_deploy() {
    let mut ctx = context();
    let t = ctx.treasury(&TOKEN_PROGRAM_ID, buffered_config([0; 32]));
    let u = |x: f64| t.a_usdc.units(x);
    // B holds 10,000 and accepts 1,000 more.
    ctx.update_config(&t.b, &t.b_usdc, |c| c.deposit_cap = 11_000_000_000);
    ctx.depositor(&t.a.market, &t.a_usdc, u(10_000.0));
    let e = rebalance_ok(&mut ctx, "deploy up to B's cap", &t);
    assert_eq!(e.amount, u(1_000.0));
    assert_eq!(
        ctx.reserve(&t.b_usdc).supply().unwrap(),
        ballast::engine::fx::fx_u64(u(11_000.0))
    );
    let watch = t.accounts();
    let logs = refused(
        &mut ctx,
        "B full",
        &[t.rebalance_ix()],
        &[],
        Expect::Ballast(BallastError::RehypothecationCapReached),
        &watch,
    );
    assert!(
        logs.iter().any(|l| l.contains("strategy room 0")),
        "{}",
        logs.join("\n")
    );
}

// ---------------------------------------------------------------------------
// Withdraw with a recall
// ---------------------------------------------------------------------------

/// The fixture with depositors of 6,000 (`d1`) and 4,000 (`d2`) in A and
/// 5,000 deployed to B: A holds 5,000 liquid.
struct Deployed {
    t: Treasury,
    d1: (Keypair, Address, Address),
    d2: (Keypair, Address, Address),
}

fn deployed(ctx: &mut TestContext, tp: &Address) -> Deployed {
    let t = ctx.treasury(tp, buffered_config([0; 32]));
    let d1 = ctx.depositor(&t.a.market, &t.a_usdc, t.a_usdc.units(6_000.0));
    let d2 = ctx.depositor(&t.a.market, &t.a_usdc, t.a_usdc.units(4_000.0));
    let e = rebalance_ok(ctx, "deploy", &t);
    assert_eq!(e.amount, t.a_usdc.units(5_000.0));
    Deployed { t, d1, d2 }
}

#[test]
fn a_withdraw_recalls_the_shortfall_only_with_the_recall_accounts() {
    let mut ctx = context();
    let Deployed {
        t,
        d1: (d1, o1, ta1),
        d2,
    } = deployed(&mut ctx, &TOKEN_PROGRAM_ID);
    let u = |x: f64| t.a_usdc.units(x);
    let mut watch = t.accounts();
    watch.extend([o1, ta1]);

    // Without the recall accounts: 6,000 asked, 5,000 liquid. Shares are
    // deployed, so the strategy reserve must follow to price the withdraw
    // (nothing, or a third market's reserve in its place, is refused) ...
    // (C is empty: the conservation checks below count every token.)
    let c = ctx.setup_market();
    let c_usdc = ctx.add_reserve_for_mint(&c, &t.a_usdc.keys.mint, 6, 1.0, test_config([0; 32]));
    let plain = ix::withdraw(&d1.pubkey(), &t.a_usdc.keys, &o1, &ta1, u(6_000.0), vec![]);
    let mismatch = Expect::Ballast(BallastError::TreasuryAccountsMismatch);
    refused(
        &mut ctx,
        "no account at all",
        std::slice::from_ref(&plain),
        &[&d1],
        mismatch,
        &watch,
    );
    let ix = ix::with_accounts(
        plain.clone(),
        [AccountMeta::new_readonly(c_usdc.address(), false)],
    );
    refused(
        &mut ctx,
        "a third market's reserve",
        &[ix],
        &[&d1],
        mismatch,
        &watch,
    );
    // ... and with it alone the vault is short: nothing is recalled.
    let ix = ix::with_accounts(plain, [t.strategy_account()]);
    let logs = refused(
        &mut ctx,
        "the strategy reserve alone",
        &[ix],
        &[&d1],
        Expect::Ballast(BallastError::InsufficientLiquidity),
        &watch,
    );
    assert!(
        logs.iter().any(|l| l.contains(
            "liquid now: 5000000000 base units; recallable from the treasury now: 0 \
             (not counted: pass the recall accounts to recall)"
        )),
        "{}",
        logs.join("\n")
    );

    // With them: 3,000 recalled (the 1,000 shortfall, and what keeps the
    // 50% cap on the 4,000 left), then 6,000 paid out.
    let b_shares = ctx.reserve(&t.b_usdc).deposit_shares;
    let meta = expect_meta(ctx.withdraw_with_recall(&d1, &t, &o1, &ta1, u(6_000.0)));
    let r: Rebalanced = one(&meta.logs);
    let w = withdrawn(&meta.logs, &t);
    assert!(!r.deployed);
    assert_eq!(
        (r.reserve, r.strategy_reserve),
        (t.a_usdc.address(), t.b_usdc.address())
    );
    assert_eq!((r.amount, r.shares), (u(3_000.0), u(3_000.0)));
    assert_eq!(b_shares - ctx.reserve(&t.b_usdc).deposit_shares, r.shares);
    assert_eq!(r.deployed_after, u(2_000.0));
    assert_eq!(
        r.liquid_after,
        u(8_000.0),
        "liquid after the recall, before the payout"
    );
    assert_eq!(r.mark_to_market, 0);
    assert_eq!(w.amount, u(6_000.0));
    assert_eq!(ctx.token_balance(&ta1).unwrap(), u(6_000.0));
    assert_eq!(ctx.reserve(&t.a_usdc).available_amount, u(2_000.0));
    assert_within_cap(&ctx, "after the recalling withdraw", &t);
    ctx.assert_treasury_reconciles("after the recalling withdraw", &t);
    assert_conserved(&ctx, "after the recalling withdraw", &t, &[ta1, d2.2]);

    // Passing the recall accounts when the vault suffices recalls nothing.
    let (d3, o3, ta3) = ctx.depositor(&t.a.market, &t.a_usdc, u(500.0));
    let meta = expect_meta(ctx.withdraw_with_recall(&d3, &t, &o3, &ta3, u(500.0)));
    assert!(events::<Rebalanced>(&meta.logs).is_empty());
    assert_eq!(ctx.token_balance(&ta3).unwrap(), u(500.0));
    ctx.assert_treasury_reconciles("no shortfall", &t);
}

#[test]
fn a_withdraw_beyond_what_the_strategy_can_return_fails_unchanged() {
    let mut ctx = context();
    let Deployed {
        t,
        d1: (d1, o1, ta1),
        ..
    } = deployed(&mut ctx, &TOKEN_2022_PROGRAM_ID);
    let u = |x: f64| t.a_usdc.units(x);
    // B's borrower leaves B 800 liquid of its 15,000.
    b_borrower(&mut ctx, &t, 1_000.0, 14_200.0);
    assert_eq!(ctx.reserve(&t.b_usdc).available_amount, u(800.0));
    let mut watch = t.accounts();
    watch.extend([o1, ta1]);
    let mut health = ctx.health_accounts(&o1, &[]);
    health.extend(t.recall_accounts());
    let ix = ix::withdraw(&d1.pubkey(), &t.a_usdc.keys, &o1, &ta1, u(5_801.0), health);
    let logs = refused(
        &mut ctx,
        "801 short, 800 recallable",
        &[ix],
        &[&d1],
        Expect::Ballast(BallastError::InsufficientLiquidity),
        &watch,
    );
    assert!(
        logs.iter().any(|l| l.contains(
            "liquid now: 5000000000 base units; recallable from the treasury now: 800000000"
        )),
        "{}",
        logs.join("\n")
    );
    // 800 short is within what B can return, but the 50% cap on the 4,200
    // left needs 2,900 back: refused too.
    let mut health = ctx.health_accounts(&o1, &[]);
    health.extend(t.recall_accounts());
    let ix = ix::withdraw(&d1.pubkey(), &t.a_usdc.keys, &o1, &ta1, u(5_800.0), health);
    let logs = refused(
        &mut ctx,
        "the cap needs 2,900, 800 recallable",
        &[ix],
        &[&d1],
        Expect::Ballast(BallastError::RehypothecationCapExceeded),
        &watch,
    );
    assert!(
        logs.iter()
            .any(|l| l.contains("2900000000 to recall, 800000000 recallable now")),
        "{}",
        logs.join("\n")
    );
    // 1,600 out (8,400 left, cap 4,200) needs exactly what B can return.
    let meta = expect_meta(ctx.withdraw_with_recall(&d1, &t, &o1, &ta1, u(1_600.0)));
    let r: Rebalanced = one(&meta.logs);
    assert_eq!(r.amount, u(800.0));
    assert_within_cap(&ctx, "B drained", &t);
    assert_eq!(ctx.reserve(&t.b_usdc).available_amount, 0);
    ctx.assert_treasury_reconciles("B drained", &t);
}

/// A borrower's withdraw passes its health accounts first, then the recall
/// accounts; the health check runs after the recall, and a withdraw that
/// fails it undoes the recall too.
#[test]
fn a_withdraw_with_debt_takes_health_then_recall_accounts() {
    let mut ctx = context();
    let Deployed {
        t,
        d1: (d1, o1, ta1),
        ..
    } = deployed(&mut ctx, &TOKEN_PROGRAM_ID);
    let u = |x: f64| t.a_usdc.units(x);
    // A also lists SOL, supplied by someone else; d1 borrows $200 of it
    // against their 6,000 USDC.
    let a_sol = ctx.add_reserve(&t.a, &TOKEN_PROGRAM_ID, 9, 20.0, test_config([0; 32]));
    ctx.depositor(&t.a.market, &a_sol, a_sol.units(100.0));
    let d1_sol = ctx.token_account_for(&a_sol, &d1.pubkey(), 0);
    ctx.borrow(&d1, &a_sol, &o1, &d1_sol, a_sol.units(10.0));
    assert_eq!(
        ctx.health_accounts(&o1, &[]).len(),
        5,
        "2 reserves + 2 oracles + USDC's strategy reserve"
    );

    // 5,800 would leave 200 USDC (150 of borrowing power) against $200.
    let mut watch = t.accounts();
    watch.extend([o1, ta1, a_sol.address()]);
    let mut accounts = ctx.health_accounts(&o1, &[]);
    accounts.extend(t.recall_accounts());
    let ix = ix::withdraw(
        &d1.pubkey(),
        &t.a_usdc.keys,
        &o1,
        &ta1,
        u(5_800.0),
        accounts,
    );
    refused(
        &mut ctx,
        "recall, then the health check fails",
        &[ix],
        &[&d1],
        Expect::Ballast(BallastError::InitialRequirementNotMet),
        &watch,
    );
    // 5,500 leaves 500 USDC (375 of borrowing power): 2,750 recalled (the
    // 500 shortfall, and the 50% cap on the 4,500 left).
    let meta = expect_meta(ctx.withdraw_with_recall(&d1, &t, &o1, &ta1, u(5_500.0)));
    assert_eq!(one::<Rebalanced>(&meta.logs).amount, u(2_750.0));
    assert_eq!(withdrawn(&meta.logs, &t).amount, u(5_500.0));
    ctx.assert_treasury_reconciles("borrower's withdraw", &t);

    // Without a recall, the strategy reserve alone follows the health
    // accounts; the health accounts alone are refused.
    let (_, _, d4_ta) = ctx.depositor(&t.a.market, &t.a_usdc, u(1_000.0));
    let health = ctx.health_accounts(&o1, &[]);
    let ix = |accounts| ix::withdraw(&d1.pubkey(), &t.a_usdc.keys, &o1, &ta1, u(100.0), accounts);
    let mut watch = t.accounts();
    watch.extend([o1, ta1, a_sol.address(), d4_ta]);
    refused(
        &mut ctx,
        "health accounts without the strategy reserve",
        &[ix(health.clone())],
        &[&d1],
        Expect::Ballast(BallastError::TreasuryAccountsMismatch),
        &watch,
    );
    let mut accounts = health;
    accounts.push(t.strategy_account());
    let meta = expect_meta(ctx.chain.send(&[ix(accounts)], &[&d1]));
    assert!(events::<Rebalanced>(&meta.logs).is_empty());
    assert_eq!(withdrawn(&meta.logs, &t).amount, u(100.0));
    assert_eq!(ctx.token_balance(&ta1).unwrap(), u(5_600.0));
    ctx.assert_treasury_reconciles("borrower's withdraw, marked", &t);
}

// ---------------------------------------------------------------------------
// Substituted strategy accounts
// ---------------------------------------------------------------------------

/// A third market C listing the same mint, with 10,000 of liquidity and its
/// own user.
fn third_market(ctx: &mut TestContext, t: &Treasury) -> (TestMarket, TestReserve) {
    let c = ctx.setup_market();
    let c_usdc = ctx.add_reserve_for_mint(&c, &t.a_usdc.keys.mint, 6, 1.0, test_config([0; 32]));
    ctx.depositor(&c.market, &c_usdc, c_usdc.units(10_000.0));
    (c, c_usdc)
}

/// Every substitution of the strategy side of `base` (the rebalance
/// instruction or a withdraw with the recall accounts), with its expected
/// error; `recall` says whether the move is a recall (the strategy's
/// authority is only used then).
fn substitutions(
    t: &Treasury,
    c: &TestMarket,
    c_usdc: &TestReserve,
    forged_ob: Address,
    base: &Instruction,
    recall: bool,
    in_withdraw: bool,
) -> Vec<(&'static str, Instruction, Expect)> {
    let mismatch = Expect::Ballast(BallastError::TreasuryAccountsMismatch);
    let ram = Expect::Ballast(BallastError::ReserveAccountMismatch);
    let seeds = Expect::Anchor(AnchorError::ConstraintSeeds);
    let b_auth = ix::market_authority(&t.b.market).0;
    let c_auth = ix::market_authority(&c.market).0;
    let a_auth = ix::market_authority(&t.a.market).0;
    let s = |from: &Address, to: &Address| swap(base.clone(), from, to);
    // In a withdraw, recall accounts that do not name the strategy reserve
    // are not recall accounts, and without the strategy reserve as the last
    // account the deployed shares cannot be marked: refused as a mismatch
    // either way (the withdraw test also appends the strategy reserve to
    // these: then the vault is short, so the withdraw is).
    let unrecognised = mismatch;
    let fake_program = if in_withdraw {
        mismatch
    } else {
        Expect::Anchor(AnchorError::InvalidProgramId)
    };
    let mut v = vec![
        (
            "strategy reserve of a third market",
            s(&t.b_usdc.address(), &c_usdc.address()),
            unrecognised,
        ),
        (
            "strategy reserve and vault of a third market",
            swap(
                s(&t.b_usdc.address(), &c_usdc.address()),
                &t.b_usdc.keys.liquidity_vault,
                &c_usdc.keys.liquidity_vault,
            ),
            unrecognised,
        ),
        (
            "a user's obligation in B as the treasury obligation",
            s(&t.treasury_ob, &t.b_so),
            mismatch,
        ),
        (
            "a forged copy of the treasury obligation",
            s(&t.treasury_ob, &forged_ob),
            mismatch,
        ),
        (
            "strategy vault of a third market",
            s(&t.b_usdc.keys.liquidity_vault, &c_usdc.keys.liquidity_vault),
            ram,
        ),
        (
            "B's insurance vault as the strategy vault",
            s(
                &t.b_usdc.keys.liquidity_vault,
                &t.b_usdc.keys.insurance_vault,
            ),
            ram,
        ),
        (
            "A's own vault as the strategy vault",
            s(
                &t.b_usdc.keys.liquidity_vault,
                &t.a_usdc.keys.liquidity_vault,
            ),
            // The same vault as source and destination of the CPI.
            Expect::Anchor(AnchorError::ConstraintDuplicateMutableAccount),
        ),
        (
            "a fake ballast program (the token program)",
            s(&ballast::ID, &TOKEN_PROGRAM_ID),
            fake_program,
        ),
        // A recall's `withdraw` checks the strategy authority's seeds (from
        // the market passed) before the reserve's market.
        (
            "strategy market C for B's reserve",
            s(&t.b.market, &c.market),
            if recall {
                seeds
            } else {
                Expect::Ballast(BallastError::WrongMarket)
            },
        ),
    ];
    if !in_withdraw {
        v.push(("B's market authority as A's", s(&a_auth, &b_auth), seeds));
        v.push((
            "the whole strategy side of a third market",
            ix::rebalance(&t.a_usdc.keys, &c_usdc.keys),
            mismatch,
        ));
    }
    if recall {
        v.push((
            "a third market's authority as the strategy's",
            s(&b_auth, &c_auth),
            seeds,
        ));
        v.push((
            "A's authority as the strategy's",
            s(&b_auth, &a_auth),
            seeds,
        ));
    }
    v
}

#[test]
fn rebalance_rejects_substituted_strategy_accounts() {
    let mut ctx = context();
    let t = ctx.treasury(&TOKEN_PROGRAM_ID, buffered_config([0; 32]));
    let (c, c_usdc) = third_market(&mut ctx, &t);
    let forged_ob = ctx.forge_copy(&t.treasury_ob, ballast::ID);
    let u = |x: f64| t.a_usdc.units(x);
    ctx.depositor(&t.a.market, &t.a_usdc, u(10_000.0));
    let mut watch = t.accounts();
    watch.extend([
        c.market,
        c_usdc.address(),
        c_usdc.keys.liquidity_vault,
        t.b_usdc.keys.insurance_vault,
        forged_ob,
    ]);

    // A deploy (100% liquid).
    for (label, ix, expect) in
        substitutions(&t, &c, &c_usdc, forged_ob, &t.rebalance_ix(), false, false)
    {
        refused(
            &mut ctx,
            &format!("deploy: {label}"),
            &[ix],
            &[],
            expect,
            &watch,
        );
    }
    rebalance_ok(&mut ctx, "the genuine deploy", &t);

    // A recall (the band raised to 60/70/80%: 50% liquid is below it).
    ctx.update_config(&t.a, &t.a_usdc, |c| {
        c.liquidity.buffer_min_bps = 6_000;
        c.liquidity.buffer_target_bps = 7_000;
        c.liquidity.buffer_max_bps = 8_000;
    });
    for (label, ix, expect) in
        substitutions(&t, &c, &c_usdc, forged_ob, &t.rebalance_ix(), true, false)
    {
        refused(
            &mut ctx,
            &format!("recall: {label}"),
            &[ix],
            &[],
            expect,
            &watch,
        );
    }
    rebalance_ok(&mut ctx, "the genuine recall", &t);
}

#[test]
fn withdraw_rejects_substituted_recall_accounts() {
    let mut ctx = context();
    let Deployed {
        t,
        d1: (d1, o1, ta1),
        ..
    } = deployed(&mut ctx, &TOKEN_PROGRAM_ID);
    let (c, c_usdc) = third_market(&mut ctx, &t);
    let forged_ob = ctx.forge_copy(&t.treasury_ob, ballast::ID);
    let mut watch = t.accounts();
    watch.extend([
        o1,
        ta1,
        c.market,
        c_usdc.address(),
        c_usdc.keys.liquidity_vault,
        t.b_usdc.keys.insurance_vault,
        forged_ob,
    ]);
    let mut accounts = ctx.health_accounts(&o1, &[]);
    accounts.extend(t.recall_accounts());
    // 6,000 asked with 5,000 liquid: a recall of 1,000 is needed.
    let base = ix::withdraw(
        &d1.pubkey(),
        &t.a_usdc.keys,
        &o1,
        &ta1,
        t.a_usdc.units(6_000.0),
        accounts,
    );
    let mut cases = substitutions(&t, &c, &c_usdc, forged_ob, &base, true, true);
    // The strategy reserve passed read-only: its books cannot be written.
    let mut ro = base.clone();
    for m in ro
        .accounts
        .iter_mut()
        .filter(|m| m.pubkey == t.b_usdc.address())
    {
        *m = AccountMeta::new_readonly(m.pubkey, false);
    }
    let mut any_failure = vec![("strategy reserve read-only", ro)];
    // Unrecognised recall accounts followed by the strategy reserve alone:
    // the withdraw is priced, but nothing can be recalled and the vault is
    // short.
    let short_of_liquidity = Expect::Ballast(BallastError::InsufficientLiquidity);
    let third = swap(base.clone(), &t.b_usdc.address(), &c_usdc.address());
    cases.push((
        "strategy reserve of a third market, then the strategy reserve",
        ix::with_accounts(third.clone(), [t.strategy_account()]),
        short_of_liquidity,
    ));
    cases.push((
        "strategy reserve and vault of a third market, then the strategy reserve",
        ix::with_accounts(
            swap(
                third,
                &t.b_usdc.keys.liquidity_vault,
                &c_usdc.keys.liquidity_vault,
            ),
            [t.strategy_account()],
        ),
        short_of_liquidity,
    ));
    // Only five of the six recall accounts: the last is not the strategy
    // reserve. With the strategy reserve appended they are six again, read
    // as recall accounts with the strategy reserve in the program's place.
    let mut short = base.clone();
    short.accounts.pop();
    cases.push((
        "five recall accounts",
        short.clone(),
        Expect::Ballast(BallastError::TreasuryAccountsMismatch),
    ));
    cases.push((
        "five recall accounts, then the strategy reserve",
        ix::with_accounts(short, [t.strategy_account()]),
        Expect::Ballast(BallastError::TreasuryAccountsMismatch),
    ));
    for (label, ix, expect) in cases {
        refused(&mut ctx, label, &[ix], &[&d1], expect, &watch);
    }
    for (label, ix) in any_failure.drain(..) {
        let before = ctx.snapshot(&watch);
        let err = ctx.fails(label, &[ix], &[&d1]);
        println!("case: {label} -> {err:?}");
        ctx.assert_unchanged(label, &before);
    }
    // The genuine one recalls 3,000: the 1,000 shortfall and the cap.
    let meta = expect_meta(ctx.chain.send(&[base], &[&d1]));
    assert_eq!(
        one::<Rebalanced>(&meta.logs).amount,
        t.a_usdc.units(3_000.0)
    );
    ctx.assert_treasury_reconciles("the genuine withdraw", &t);
}

// ---------------------------------------------------------------------------
// Balance sheet
// ---------------------------------------------------------------------------

/// The balance sheet of A's reserve, with the strategy reserve passed.
fn sheet(ctx: &mut TestContext, t: &Treasury) -> BalanceSheet {
    let ix = ix::balance_sheet_with_strategy(&t.a_usdc.keys, &t.b_usdc.address());
    let before = ctx.snapshot(&t.accounts());
    let meta = expect_meta(ctx.chain.send(&[ix], &[]));
    ctx.assert_unchanged("a view writes nothing", &before);
    let s = BalanceSheet::try_from_slice(&meta.return_data.data).expect("layout");
    let e: ballast::events::BalanceSheetReported = one(&meta.logs);
    assert_eq!(e.sheet, s);
    s
}

#[test]
fn balance_sheet_values_the_treasury_at_the_strategys_exchange_rate() {
    let mut ctx = context();
    let Deployed {
        t,
        d1: (d1, o1, ta1),
        ..
    } = deployed(&mut ctx, &TOKEN_PROGRAM_ID);
    let u = |x: f64| t.a_usdc.units(x);
    // B's borrower leaves B 1,000 liquid; d1 takes 1,000 (marking the
    // treasury now; 500 recalled to keep the 50% cap on the 9,000 left, B
    // keeps 500 liquid), then 30 days of interest, neither accrued nor
    // marked.
    b_borrower(&mut ctx, &t, 1_000.0, 14_000.0);
    ctx.withdraw(&d1, &t.a_usdc, &o1, &ta1, u(1_000.0));
    ctx.assert_treasury_reconciles("d1 withdraws", &t);
    ctx.warp_seconds(30 * DAY);
    let a = ctx.reserve(&t.a_usdc);
    let now = ctx.clock().unix_timestamp;
    let mut b = ctx.reserve(&t.b_usdc);
    b.accrue_interest(now).unwrap();
    let value = shares_value(&b, a.treasury.deployed_shares).unwrap();
    assert!(
        value > a.treasury.deployed_amount,
        "B's interest is valued, not the book"
    );

    let s = sheet(&mut ctx, &t);
    assert_eq!(s.liquid, u(4_500.0));
    assert_eq!(
        s.liquid,
        ctx.token_balance(&t.a_usdc.keys.liquidity_vault).unwrap()
    );
    assert_eq!(s.deployed, value);
    assert_eq!((s.borrowed, s.protocol_fees), (0, 0));
    assert_eq!(s.assets, s.liquid + s.deployed + s.borrowed);
    assert_eq!(s.liabilities, s.assets);
    // Recallable: the value deployed, bounded by B's 500 liquid.
    let recallable = value.min(b.available_amount);
    assert_eq!(recallable, u(500.0));
    assert_eq!(
        s.liquidity_coverage_bps,
        liquidity_coverage_bps(s.liquid, recallable, s.liabilities, 2_500)
    );
    assert!(s.liquidity_coverage_bps > liquidity_coverage_bps(s.liquid, 0, s.liabilities, 2_500));
    assert_eq!(s.liquid_share_bps as u64, s.liquid * 10_000 / s.liabilities);

    // The strategy reserve is required and must be the configured one.
    let (_c, c_usdc) = third_market(&mut ctx, &t);
    let mismatch = Expect::Ballast(BallastError::TreasuryAccountsMismatch);
    let forged = ctx.forge_copy(&t.b_usdc.address(), ballast::ID);
    let watch = t.accounts();
    refused(
        &mut ctx,
        "no strategy account",
        &[ix::balance_sheet(&t.a_usdc.keys)],
        &[],
        mismatch,
        &watch,
    );
    for (label, wrong) in [
        ("a third market's reserve", c_usdc.address()),
        ("a forged copy of the strategy", forged),
        ("A's own reserve", t.a_usdc.address()),
        ("the treasury obligation", t.treasury_ob),
    ] {
        let ix = ix::balance_sheet_with_strategy(&t.a_usdc.keys, &wrong);
        refused(&mut ctx, label, &[ix], &[], mismatch, &watch);
    }
}

// ---------------------------------------------------------------------------
// Bank run
// ---------------------------------------------------------------------------

#[test]
fn a_bank_run_across_buffer_and_treasury_meets_the_limiter_and_everyone_exits() {
    let mut ctx = context();
    let mut cfg = buffered_config([0; 32]);
    cfg.liquidity.outflow_window_secs = DAY as u32;
    cfg.liquidity.outflow_cap = 3_000_000_000;
    let t = ctx.treasury(&TOKEN_PROGRAM_ID, cfg);
    let u = |x: f64| t.a_usdc.units(x);
    let depositors: Vec<_> = (0..10)
        .map(|_| ctx.depositor(&t.a.market, &t.a_usdc, u(1_000.0)))
        .collect();
    let e = rebalance_ok(&mut ctx, "deploy", &t);
    assert_eq!(e.amount, u(5_000.0));
    // B lends 8,000 of its 15,000: the treasury earns while the run goes on.
    let (_, _, b_usdc_ta) = b_borrower(&mut ctx, &t, 1_000.0, 8_000.0);
    let mut users: Vec<Address> = depositors.iter().map(|(_, _, ta)| *ta).collect();
    users.push(b_usdc_ta);
    // Two windows on, so the deposits no longer net the run's outflow.
    ctx.warp_seconds(2 * DAY);

    let mut exited = vec![false; depositors.len()];
    let mut recalled = 0;
    let mut rounds = 0;
    while exited.iter().any(|e| !e) {
        let mut refused_now = 0;
        for (i, (d, o, ta)) in depositors.iter().enumerate() {
            if exited[i] {
                continue;
            }
            let before = ctx.snapshot(&[t.a_usdc.address(), t.b_usdc.address(), *o, *ta]);
            match ctx.withdraw_with_recall(d, &t, o, ta, u64::MAX) {
                Ok(meta) => {
                    exited[i] = true;
                    recalled += events::<Rebalanced>(&meta.logs).len();
                }
                Err(e) => {
                    assert_ballast_err(&e.err, BallastError::OutflowLimitExceeded);
                    ctx.assert_unchanged("refused by the limiter", &before);
                    refused_now += 1;
                }
            }
            ctx.assert_treasury_reconciles("run", &t);
            assert_conserved(&ctx, "run", &t, &users);
        }
        if rounds == 0 {
            assert!(
                refused_now >= 7,
                "3,000 a day lets at most 3 of the 1,000-odd deposits out"
            );
        }
        rounds += 1;
        assert!(rounds <= 10);
        ctx.warp_seconds(2 * DAY);
    }
    assert!(rounds >= 4, "the run took {rounds} rounds");
    assert!(recalled > 0, "the treasury paid part of the run");
    // Nothing lost: every depositor got at least their 1,000 back, and A
    // keeps nothing of theirs, neither liquid nor in B.
    for (_, o, ta) in &depositors {
        assert!(ctx.token_balance(ta).unwrap() >= u(1_000.0));
        assert_eq!(ctx.deposit_shares_of(o, &t.a_usdc), 0);
    }
    let a = ctx.reserve(&t.a_usdc);
    assert_eq!((a.deposit_shares, a.available_amount), (0, 0));
    assert_eq!(
        (a.treasury.deployed_shares, a.treasury.deployed_amount),
        (0, 0)
    );
    assert_eq!(ctx.deposit_shares_of(&t.treasury_ob, &t.b_usdc), 0);
    ctx.assert_treasury_reconciles("after the run", &t);
}

// ---------------------------------------------------------------------------
// Valuation between marks
// ---------------------------------------------------------------------------

/// Marks `a_usdc`'s book value at `value` on a copy of the reserve accrued
/// to now: the state a marking instruction prices shares with.
fn marked(ctx: &TestContext, t: &Treasury, value: u64) -> ballast::state::Reserve {
    let mut a = ctx.reserve(&t.a_usdc);
    a.accrue_interest(ctx.clock().unix_timestamp).unwrap();
    a.treasury.deployed_amount = value;
    a
}

/// The supply of `r`, base units rounded down.
fn supply_of(r: &ballast::state::Reserve) -> u64 {
    ballast::engine::fx::FxExt::to_floor_u64(r.supply().unwrap()).unwrap()
}

/// A deposit prices A's shares with the treasury marked at B's exchange
/// rate (its interest projected to now), so interest earned in B since the
/// last mark belongs to the depositors of that time, not to one who deposits
/// before the next mark. While shares are deployed, a deposit and a withdraw
/// therefore require the strategy reserve (read-only): without it, or with
/// another account in its place, they are refused.
#[test]
fn a_late_depositor_does_not_capture_the_strategys_unmarked_interest() {
    let mut ctx = context();
    let t = ctx.treasury(&TOKEN_PROGRAM_ID, buffered_config([0; 32]));
    let u = |x: f64| t.a_usdc.units(x);
    let (_d1, o1, _) = ctx.depositor(&t.a.market, &t.a_usdc, u(10_000.0));
    rebalance_ok(&mut ctx, "deploy", &t);
    // B lends 14,000 of 15,000: ~40% a year to its depositors.
    b_borrower(&mut ctx, &t, 1_000.0, 14_000.0);
    ctx.warp_seconds(30 * DAY);
    let now = ctx.clock().unix_timestamp;
    let value = ctx.projected_treasury_value(&t);
    let a = ctx.reserve(&t.a_usdc);
    let unmarked = value - a.treasury.deployed_amount;
    assert!(
        unmarked > u(100.0),
        "{unmarked} of interest earned in B, not marked in A"
    );

    let (late, lta) = ctx.user_with_tokens(&t.a_usdc, u(10_000.0));
    let lo = ctx.open_obligation(&late, &t.a.market, 0);
    let (_c, c_usdc) = third_market(&mut ctx, &t);
    let forged = ctx.forge_copy(&t.b_usdc.address(), ballast::ID);
    let mut watch = t.accounts();
    watch.extend([lo, lta, c_usdc.address(), forged]);
    let mismatch = Expect::Ballast(BallastError::TreasuryAccountsMismatch);
    let wrong = [
        ("a third market's reserve of the mint", c_usdc.address()),
        ("a forged copy of the strategy reserve", forged),
        ("B's SOL reserve", t.b_sol.address()),
    ];

    // The deposit without the strategy reserve, or with another account.
    let plain = ix::deposit(&late.pubkey(), &t.a_usdc.keys, &lo, &lta, u(10_000.0));
    refused(
        &mut ctx,
        "deposit without the strategy reserve",
        std::slice::from_ref(&plain),
        &[&late],
        mismatch,
        &watch,
    );
    for (label, w) in wrong {
        let ix = ix::with_accounts(plain.clone(), [AccountMeta::new_readonly(w, false)]);
        refused(
            &mut ctx,
            &format!("deposit: {label}"),
            &[ix],
            &[&late],
            mismatch,
            &watch,
        );
    }

    // With it: the treasury is marked at B's projected rate (B is only
    // read), then the newcomer's shares priced at the marked supply, fewer
    // than the stale book value would have given.
    let priced = marked(&ctx, &t, value);
    let shares = ballast::engine::shares::shares_for_deposit(
        u(10_000.0),
        priced.supply().unwrap(),
        priced.deposit_shares,
    )
    .unwrap();
    let stale = ballast::engine::shares::shares_for_deposit(
        u(10_000.0),
        a.supply().unwrap(),
        a.deposit_shares,
    )
    .unwrap();
    assert!(shares < stale, "{shares} vs {stale} at the stale book");
    let b_before = ctx.snapshot(&[t.b_usdc.address()]);
    let ix = ix::with_accounts(plain, [t.strategy_account()]);
    ctx.ok("deposit with the strategy reserve", &[ix], &[&late]);
    ctx.assert_unchanged("the strategy reserve is only read", &b_before);
    let a = ctx.reserve(&t.a_usdc);
    assert_eq!(
        a.treasury.deployed_amount, value,
        "marked at B's projected rate"
    );
    assert_eq!(a.treasury.last_mark_ts, now);
    assert_eq!(ctx.deposit_shares_of(&lo, &t.a_usdc), shares);
    ctx.assert_treasury_reconciles("marked by the deposit", &t);
    // The interest is d1's.
    assert!(ctx.collateral_of(&o1, &t.a_usdc) + 1 >= u(10_000.0) + unmarked);

    // The newcomer withdraws everything from A's 15,000 liquid: refused
    // without the strategy reserve or with another account in its place ...
    let plain = ix::withdraw(&late.pubkey(), &t.a_usdc.keys, &lo, &lta, u64::MAX, vec![]);
    refused(
        &mut ctx,
        "withdraw without the strategy reserve",
        std::slice::from_ref(&plain),
        &[&late],
        mismatch,
        &watch,
    );
    for (label, w) in wrong {
        let ix = ix::with_accounts(plain.clone(), [AccountMeta::new_readonly(w, false)]);
        refused(
            &mut ctx,
            &format!("withdraw: {label}"),
            &[ix],
            &[&late],
            mismatch,
            &watch,
        );
    }
    // ... and with it alone, refused too: the marked interest put the
    // treasury over the 50% cap on the 10,000-odd left, so the withdrawal
    // must recall the excess ...
    refused(
        &mut ctx,
        "withdraw with the strategy reserve alone",
        &[ix::with_accounts(plain.clone(), [t.strategy_account()])],
        &[&late],
        Expect::Ballast(BallastError::RecallAccountsRequired),
        &watch,
    );
    // ... which it does given the recall accounts, and the newcomer gets the
    // 10,000 back, none of the interest.
    let ix = ix::with_accounts(plain, t.recall_accounts());
    let logs = ctx.ok_logs("withdraw with the recall accounts", &[ix], &[&late]);
    let w = withdrawn(&logs, &t);
    let moves = events::<Rebalanced>(&logs);
    assert!(
        moves.len() == 1 && !moves[0].deployed,
        "the excess is recalled"
    );
    assert_within_cap(&ctx, "the newcomer leaves", &t);
    assert!(
        w.amount <= u(10_000.0),
        "the newcomer took {} of the {unmarked} earned before they deposited",
        w.amount - u(10_000.0)
    );
    assert!(
        w.amount + 1 >= u(10_000.0),
        "the newcomer lost {}",
        u(10_000.0) - w.amount
    );
    assert_eq!(ctx.token_balance(&lta).unwrap(), w.amount);
    ctx.assert_treasury_reconciles("the newcomer leaves", &t);
}

/// `accrue_interest` given the strategy reserve marks the deployed shares
/// at its projected exchange rate (the book value that other obligations'
/// health checks read), without writing the strategy; without it, it only
/// accrues; with another account in its place it is refused.
#[test]
fn accrue_interest_with_the_strategy_reserve_marks_the_book_value() {
    let mut ctx = context();
    let t = ctx.treasury(&TOKEN_PROGRAM_ID, buffered_config([0; 32]));
    let u = |x: f64| t.a_usdc.units(x);
    ctx.depositor(&t.a.market, &t.a_usdc, u(10_000.0));
    rebalance_ok(&mut ctx, "deploy", &t);
    b_borrower(&mut ctx, &t, 1_000.0, 14_000.0);
    ctx.warp_seconds(30 * DAY);
    let now = ctx.clock().unix_timestamp;
    let before = ctx.reserve(&t.a_usdc);
    let value = ctx.projected_treasury_value(&t);
    assert!(value > before.treasury.deployed_amount + u(100.0));
    let accrue = ix::accrue_interest(&t.a_usdc.address());

    // Without the strategy reserve: accrued, not marked.
    ctx.ok("accrue_interest alone", std::slice::from_ref(&accrue), &[]);
    let a = ctx.reserve(&t.a_usdc);
    assert_eq!(a.last_update_ts, now);
    assert_eq!(a.treasury, before.treasury, "not marked");

    let (_c, c_usdc) = third_market(&mut ctx, &t);
    let forged = ctx.forge_copy(&t.b_usdc.address(), ballast::ID);
    let mut watch = t.accounts();
    watch.extend([c_usdc.address(), forged]);
    for (label, w) in [
        ("a third market's reserve of the mint", c_usdc.address()),
        ("a forged copy of the strategy reserve", forged),
        ("A's own reserve", t.a_usdc.address()),
        ("the treasury obligation", t.treasury_ob),
    ] {
        let ix = ix::with_accounts(accrue.clone(), [AccountMeta::new_readonly(w, false)]);
        refused(
            &mut ctx,
            label,
            &[ix],
            &[],
            Expect::Ballast(BallastError::TreasuryAccountsMismatch),
            &watch,
        );
    }

    // With it: the book value moves to the shares' value at B's projected
    // rate, and A's supply with it; B is only read.
    let b_before = ctx.snapshot(&[t.b_usdc.address()]);
    let ix = ix::with_accounts(accrue, [t.strategy_account()]);
    let logs = ctx.ok_logs("accrue_interest with the strategy", &[ix], &[]);
    ctx.assert_unchanged("the strategy reserve is only read", &b_before);
    let e: ballast::events::InterestAccrued = one(&logs);
    assert_eq!((e.reserve, e.timestamp), (t.a_usdc.address(), now));
    let a = ctx.reserve(&t.a_usdc);
    assert_eq!(a.treasury.deployed_amount, value);
    assert_eq!(a.treasury.deployed_shares, before.treasury.deployed_shares);
    assert_eq!(a.treasury.last_mark_ts, now);
    assert_eq!(
        supply_of(&a),
        supply_of(&before) + (value - before.treasury.deployed_amount)
    );
    ctx.assert_treasury_reconciles("marked by accrue_interest", &t);
}

/// A loss in the strategy is marked like a gain: bad debt socialized in B
/// lowers B's exchange rate, and a withdrawer from A is then paid at the
/// lower value (their pro-rata part of the loss), not at the stale book.
#[test]
fn a_loss_in_the_strategy_is_marked_and_paid_at_the_lower_rate() {
    let mut ctx = context();
    let Deployed {
        t,
        d1: (_d1, o1, _),
        d2: (d2, o2, ta2),
    } = deployed(&mut ctx, &TOKEN_PROGRAM_ID);
    let u = |x: f64| t.a_usdc.units(x);
    // B's borrower: 100 SOL ($2,000) against 1,400 USDC. SOL crashes to $5:
    // the obligation is closed out and the rest of its debt written off
    // against B's depositors (B's USDC insurance vault is empty).
    let (_, bo, _) = b_borrower(&mut ctx, &t, 100.0, 1_400.0);
    let (liq, l_usdc) = ctx.user_with_tokens(&t.b_usdc, u(10_000.0));
    let l_sol = ctx.token_account_for(&t.b_sol, &liq.pubkey(), 0);
    ctx.set_price(&t.b_sol, 5.0, 0.0);
    let b_rate = |r: &ballast::state::Reserve| {
        ballast::engine::treasury::shares_value(r, 1_000_000_000).unwrap()
    };
    let rate_before = b_rate(&ctx.reserve(&t.b_usdc));
    // The liquidation that takes the last collateral writes the rest off.
    while ctx.has_collateral(&bo) {
        ctx.liquidate_ok(&liq, &bo, &t.b_usdc, &t.b_sol, &l_usdc, &l_sol, u64::MAX);
    }
    assert!(!ctx.obligation(&bo).has_debt(), "written off in B");
    assert!(
        b_rate(&ctx.reserve(&t.b_usdc)) < rate_before,
        "B's rate fell"
    );
    let book = ctx.reserve(&t.a_usdc).treasury.deployed_amount;
    assert_eq!(book, u(5_000.0));
    let value = ctx.projected_treasury_value(&t);
    let loss = book - value;
    assert!(loss > u(100.0), "a loss of {loss} in B, not marked in A");

    // d2 exits in full (4,000 of A's 10,000 shares; A's 5,000 liquid
    // suffices, the cap needs a recall): paid at the marked value.
    let held = ctx.deposit_shares_of(&o2, &t.a_usdc);
    let priced = marked(&ctx, &t, value);
    let expected = ballast::engine::shares::tokens_for_shares_floor(
        held,
        priced.supply().unwrap(),
        priced.deposit_shares,
    )
    .unwrap();
    let expected = ballast::engine::fx::FxExt::to_floor_u64(expected).unwrap();
    ctx.withdraw(&d2, &t.a_usdc, &o2, &ta2, u64::MAX);
    let got = ctx.token_balance(&ta2).unwrap();
    assert_eq!(got, expected);
    assert!(got < u(4_000.0), "the stale book would have paid 4,000");
    // d2 bore 40% of the loss, to the base unit.
    assert!((u(4_000.0) - got).abs_diff(loss * 2 / 5) <= 1);
    // Marked at the lower value, then part of it recalled (the 50% cap on
    // the 6,000-odd left).
    let a = ctx.reserve(&t.a_usdc);
    assert!(a.treasury.deployed_amount < value);
    assert_within_cap(&ctx, "after the loss", &t);
    assert_eq!(a.treasury.last_mark_ts, ctx.clock().unix_timestamp);
    ctx.assert_treasury_reconciles("after the loss", &t);
    // d1 keeps the other 60% of the loss: their claim is what is left.
    let d1_claim = ctx.collateral_of(&o1, &t.a_usdc);
    assert!(d1_claim <= supply_of(&a) && supply_of(&a) - d1_claim <= 1);
    assert!((u(6_000.0) - d1_claim).abs_diff(loss * 3 / 5) <= 1);
}

/// A liquidation seizing A's USDC, which has shares deployed, needs the
/// strategy reserve as the last remaining account (after the health
/// accounts): the seized shares are priced at the marked value.
#[test]
fn a_liquidation_seizing_a_reserve_with_shares_deployed_marks_it_first() {
    let mut ctx = context();
    let Deployed {
        t, d1: (d1, o1, _), ..
    } = deployed(&mut ctx, &TOKEN_PROGRAM_ID);
    let u = |x: f64| t.a_usdc.units(x);
    // A lists SOL; d1 borrows 200 SOL ($4,000) against their 6,000 USDC.
    let a_sol = ctx.add_reserve(&t.a, &TOKEN_PROGRAM_ID, 9, 20.0, test_config([0; 32]));
    ctx.depositor(&t.a.market, &a_sol, a_sol.units(1_000.0));
    let d1_sol = ctx.token_account_for(&a_sol, &d1.pubkey(), 0);
    ctx.borrow(&d1, &a_sol, &o1, &d1_sol, a_sol.units(200.0));
    // B earns 30 days of interest (unmarked in A), then USDC falls to $0.80
    // in A: about 6,100 x 0.8 x 80% < 4,000 of debt.
    b_borrower(&mut ctx, &t, 1_000.0, 14_000.0);
    ctx.warp_seconds(30 * DAY);
    ctx.set_price(&t.a_usdc, 0.8, 0.0);
    ctx.set_price(&a_sol, 20.0, 0.0);
    let (liq, l_sol) = ctx.user_with_tokens(&a_sol, a_sol.units(200.0));
    let l_usdc = ctx.token_account_for(&t.a_usdc, &liq.pubkey(), 0);
    let (_c, c_usdc) = third_market(&mut ctx, &t);
    let mut watch = t.accounts();
    watch.extend([
        o1,
        a_sol.address(),
        a_sol.keys.liquidity_vault,
        t.a_usdc.keys.insurance_vault,
        l_sol,
        l_usdc,
        c_usdc.address(),
    ]);
    let mismatch = Expect::Ballast(BallastError::TreasuryAccountsMismatch);
    let plain = ctx.liquidate_ix(&liq, &o1, &a_sol, &t.a_usdc, &l_sol, &l_usdc, u64::MAX);
    refused(
        &mut ctx,
        "liquidation without the strategy reserve",
        std::slice::from_ref(&plain),
        &[&liq],
        mismatch,
        &watch,
    );
    let ix = ix::with_accounts(plain, [AccountMeta::new_readonly(c_usdc.address(), false)]);
    refused(
        &mut ctx,
        "liquidation with a third market's reserve last",
        &[ix],
        &[&liq],
        mismatch,
        &watch,
    );

    // With it: marked, then the seized tokens cost the shares they are
    // worth at the marked supply (fewer than at the stale book).
    let value = ctx.projected_treasury_value(&t);
    let stale = ctx.reserve(&t.a_usdc);
    assert!(value > stale.treasury.deployed_amount + u(100.0));
    let priced = marked(&ctx, &t, value);
    let held = ctx.deposit_shares_of(&o1, &t.a_usdc);
    let b_before = ctx.snapshot(&[t.b_usdc.address()]);
    let e = ctx.liquidate_marked_ok(&liq, &o1, &a_sol, &t.a_usdc, &l_sol, &l_usdc, u64::MAX);
    ctx.assert_unchanged("the strategy reserve is only read", &b_before);
    assert!(e.repaid > 0 && e.seized > 0);
    let burned = held - ctx.deposit_shares_of(&o1, &t.a_usdc);
    let ceil = |r: &ballast::state::Reserve| {
        ballast::engine::shares::shares_for_withdraw_ceil(
            e.seized,
            r.supply().unwrap(),
            r.deposit_shares,
        )
        .unwrap()
    };
    assert_eq!(burned, ceil(&priced), "shares priced at the marked supply");
    assert!(burned < ceil(&stale), "the stale book would burn more");
    let a = ctx.reserve(&t.a_usdc);
    assert_eq!(a.treasury.deployed_amount, value);
    assert_eq!(a.treasury.last_mark_ts, ctx.clock().unix_timestamp);
    ctx.assert_treasury_reconciles("after the liquidation", &t);
}
