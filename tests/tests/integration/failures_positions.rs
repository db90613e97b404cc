//! Adversarial tests of the position instructions (`init_obligation`,
//! `deposit`, `withdraw`, `borrow`, `repay`): wrong or stripped signers,
//! substituted accounts (another market's reserve, vault, mint, token program
//! or obligation; forged reserves; token accounts of another mint), amounts
//! (zero, caps, liquidity, LTV, utilisation, over-withdraw, over-repay), the
//! pause switch and a full obligation. Each failure is checked for its exact
//! error and for leaving every account involved byte-for-byte unchanged; the
//! token-moving cases run under both token programs.

use anchor_lang::error::ErrorCode as AnchorError;
use ballast::engine::fx::FxExt;
use ballast::engine::shares::debt_for_shares;
use ballast::errors::BallastError;
use ballast::state::PositionKind;
use ballast_tests::*;
use solana_instruction::{AccountMeta, Instruction};
use solana_instruction_error::InstructionError;
use solana_transaction_error::TransactionError;

/// The [`Lending`] fixture plus a second market `o` listing the same two
/// mints, with USDC liquidity, in which the borrower also holds an
/// obligation (`ob_other`, 10 SOL of collateral). The borrower holds 1,000
/// USDC in `l.b_debt` and 10 SOL in `l.b_coll`.
struct World {
    tp: Address,
    l: Lending,
    o: TestMarket,
    o_coll: TestReserve,
    o_debt: TestReserve,
    ob_other: Address,
}

impl World {
    fn new(ctx: &mut TestContext, tp: Address) -> Self {
        let l = ctx.lending(&tp);
        let o = ctx.setup_market();
        let o_coll = ctx.add_reserve_for_mint(&o, &l.coll.keys.mint, 9, 20.0, test_config([0; 32]));
        let o_debt = ctx.add_reserve_for_mint(&o, &l.debt.keys.mint, 6, 1.0, test_config([0; 32]));
        let (s2, s2_debt) = ctx.user_with_tokens(&o_debt, o_debt.units(10_000.0));
        let so2 = ctx.open_obligation(&s2, &o.market, 0);
        ctx.deposit(&s2, &o_debt, &so2, &s2_debt, o_debt.units(10_000.0));
        ctx.mint_to(&l.coll.keys.mint, &l.b_coll, l.coll.units(20.0))
            .unwrap();
        let ob_other = ctx.open_obligation(&l.borrower, &o.market, 0);
        ctx.deposit(
            &l.borrower,
            &o_coll,
            &ob_other,
            &l.b_coll,
            o_coll.units(10.0),
        );
        ctx.mint_to(&l.debt.keys.mint, &l.b_debt, l.debt.units(1_000.0))
            .unwrap();
        World {
            tp,
            l,
            o,
            o_coll,
            o_debt,
            ob_other,
        }
    }

    /// Every account of both markets that an instruction could touch.
    fn accounts(&self) -> Vec<Address> {
        let mut v = self.l.accounts();
        v.extend([
            self.o.market,
            self.o_coll.keys.reserve,
            self.o_coll.keys.liquidity_vault,
            self.o_debt.keys.reserve,
            self.o_debt.keys.liquidity_vault,
            self.ob_other,
        ]);
        v
    }

    /// `base`'s sibling in market `l` (the other mint) and its twin (same
    /// mint) in market `o`.
    fn relatives(&self, base: &TestReserve) -> (TestReserve, TestReserve) {
        if base.keys.reserve == self.l.coll.keys.reserve {
            (self.l.debt, self.o_coll)
        } else {
            (self.l.coll, self.o_debt)
        }
    }
}

/// One substituted-accounts case: the reserve keys, obligation and user
/// token account passed, and the error expected.
struct Case {
    label: &'static str,
    keys: ReserveKeys,
    obligation: Address,
    ta: Address,
    expect: Expect,
}

/// Every account substitution against an instruction on `base` from
/// obligation `ob` with user token account `ta` (`ta_other_mint` holds the
/// other mint). Creates the forged accounts it needs; returns them too so
/// that the caller can include them in its snapshot.
fn substitution_cases(
    ctx: &mut TestContext,
    w: &World,
    base: &TestReserve,
    ob: Address,
    ta: Address,
    ta_other_mint: Address,
) -> (Vec<Case>, Vec<Address>) {
    let (sibling, twin) = w.relatives(base);
    let k = base.keys;
    let forged_wrong_owner = ctx.forge_copy(&k.reserve, anchor_lang::system_program::ID);
    let forged_foreign = ctx.forge_copy(&twin.keys.reserve, ballast::ID);
    let ram = Expect::Ballast(BallastError::ReserveAccountMismatch);
    let wm = Expect::Ballast(BallastError::WrongMarket);
    let case = |label, keys, obligation, ta, expect| Case {
        label,
        keys,
        obligation,
        ta,
        expect,
    };
    let cases = vec![
        case(
            "reserve (and vault) of the same mint in another market",
            ReserveKeys {
                reserve: twin.keys.reserve,
                liquidity_vault: twin.keys.liquidity_vault,
                ..k
            },
            ob,
            ta,
            wm,
        ),
        case(
            "market and reserve of another market, obligation of this one",
            twin.keys,
            ob,
            ta,
            wm,
        ),
        case("obligation of another market", k, w.ob_other, ta, wm),
        case(
            "vault of the other reserve",
            ReserveKeys {
                liquidity_vault: sibling.keys.liquidity_vault,
                ..k
            },
            ob,
            ta,
            ram,
        ),
        case(
            "vault of the same mint in another market",
            ReserveKeys {
                liquidity_vault: twin.keys.liquidity_vault,
                ..k
            },
            ob,
            ta,
            ram,
        ),
        case(
            "insurance vault as liquidity vault",
            ReserveKeys {
                liquidity_vault: k.insurance_vault,
                ..k
            },
            ob,
            ta,
            ram,
        ),
        case(
            "mint of the other reserve",
            ReserveKeys {
                mint: sibling.keys.mint,
                ..k
            },
            ob,
            ta,
            ram,
        ),
        case(
            "the other token program",
            ReserveKeys {
                token_program: other_token_program(&w.tp),
                ..k
            },
            ob,
            ta,
            ram,
        ),
        case(
            "system program as token program",
            ReserveKeys {
                token_program: anchor_lang::system_program::ID,
                ..k
            },
            ob,
            ta,
            Expect::Anchor(AnchorError::InvalidProgramId),
        ),
        case(
            "user token account of the other mint",
            k,
            ob,
            ta_other_mint,
            Expect::Anchor(AnchorError::ConstraintTokenMint),
        ),
        case(
            "an obligation as the reserve",
            ReserveKeys {
                reserve: w.l.so,
                ..k
            },
            ob,
            ta,
            Expect::Anchor(AnchorError::AccountDiscriminatorMismatch),
        ),
        case(
            "a reserve as the obligation",
            k,
            sibling.keys.reserve,
            ta,
            Expect::Anchor(AnchorError::AccountDiscriminatorMismatch),
        ),
        case(
            "a reserve as the market",
            ReserveKeys {
                market: sibling.keys.reserve,
                ..k
            },
            ob,
            ta,
            Expect::Anchor(AnchorError::AccountDiscriminatorMismatch),
        ),
        case(
            "copy of the reserve owned by another program",
            ReserveKeys {
                reserve: forged_wrong_owner,
                ..k
            },
            ob,
            ta,
            Expect::Anchor(AnchorError::AccountOwnedByWrongProgram),
        ),
        case(
            "Ballast-owned copy of the other market's reserve",
            ReserveKeys {
                reserve: forged_foreign,
                ..k
            },
            ob,
            ta,
            wm,
        ),
    ];
    (cases, vec![forged_wrong_owner, forged_foreign])
}

/// Runs every case built by `build` and asserts its error and that nothing
/// changed.
fn run_cases(
    ctx: &mut TestContext,
    w: &World,
    cases: Vec<Case>,
    extra_accounts: Vec<Address>,
    signer: &Keypair,
    build: impl Fn(&Case) -> Instruction,
) {
    let mut accounts = w.accounts();
    accounts.extend(extra_accounts);
    let before = ctx.snapshot(&accounts);
    for c in &cases {
        let err = ctx.fails(c.label, &[build(c)], &[signer]);
        check(c.label, &err, c.expect);
        ctx.assert_unchanged(c.label, &before);
    }
}

/// Sends `ix` expecting `expect`, and asserts `accounts` are unchanged.
fn fails_unchanged(
    ctx: &mut TestContext,
    label: &str,
    ix: Instruction,
    signers: &[&Keypair],
    accounts: &[Address],
    expect: Expect,
) {
    let before = ctx.snapshot(accounts);
    let err = ctx.fails(label, &[ix], signers);
    check(label, &err, expect);
    ctx.assert_unchanged(label, &before);
}

/// The debt of obligation `o` in reserve `r` as `repay` computes it now
/// (shares times the borrow index projected to now, rounded up).
fn debt_now(ctx: &TestContext, r: &TestReserve, o: &Address) -> u64 {
    let reserve = ctx.reserve(r);
    let ob = ctx.obligation(o);
    let i = ob
        .find(&r.keys.reserve, PositionKind::Debt)
        .expect("debt position");
    let index = reserve
        .projected_borrow_index(ctx.clock().unix_timestamp)
        .unwrap();
    debt_for_shares(ob.positions[i].borrow_shares.get(), index)
        .unwrap()
        .to_ceil_u64()
        .unwrap()
}

// ---------------------------------------------------------------------------
// init_obligation
// ---------------------------------------------------------------------------

#[test]
fn init_obligation_twice_with_the_same_index_fails() {
    let mut ctx = TestContext::new();
    let l = ctx.lending(&TOKEN_PROGRAM_ID);
    let before = ctx.snapshot(&[l.ob, l.m.market]);
    let ix = ix::init_obligation(&l.borrower.pubkey(), &l.borrower.pubkey(), &l.m.market, 0);
    let err = ctx.fails("init_obligation again", &[ix], &[&l.borrower]);
    // The system program refuses to allocate an account already in use.
    assert_eq!(
        err,
        TransactionError::InstructionError(0, InstructionError::Custom(0)),
        "{err:?}"
    );
    ctx.assert_unchanged("init_obligation again", &before);
    // Paid by someone else, it fails the same way.
    let ix = ix::init_obligation(&l.supplier.pubkey(), &l.borrower.pubkey(), &l.m.market, 0);
    let err = ctx.fails("init_obligation again", &[ix], &[&l.supplier, &l.borrower]);
    assert_eq!(
        err,
        TransactionError::InstructionError(0, InstructionError::Custom(0)),
        "{err:?}"
    );
    ctx.assert_unchanged("init_obligation again, other payer", &before);
}

#[test]
fn nobody_can_open_an_obligation_in_someone_elses_name() {
    let mut ctx = TestContext::new();
    let m = ctx.setup_market();
    let victim = ctx.funded_user(1);
    let attacker = ctx.funded_user(1);
    let target = ix::obligation_address(&m.market, &victim.pubkey(), 0);
    let mut ix = ix::init_obligation(&attacker.pubkey(), &victim.pubkey(), &m.market, 0);
    ix.accounts[1].is_signer = false;
    let before = ctx.snapshot(&[m.market, target, attacker.pubkey()]);
    let err = ctx.fails("init_obligation for the victim", &[ix], &[&attacker]);
    assert_anchor_err(&err, AnchorError::AccountNotSigner);
    ctx.assert_unchanged("init_obligation for the victim", &before);
    assert!(ctx.svm.get_account(&target).is_none());
    // The victim can still open it.
    ctx.open_obligation(&victim, &m.market, 0);
}

#[test]
fn init_obligation_at_an_address_of_other_seeds_fails() {
    let mut ctx = TestContext::new();
    let m = ctx.setup_market();
    let user = ctx.funded_user(1);
    let other = ctx.funded_user(1);
    for (label, address) in [
        (
            "index 1's address",
            ix::obligation_address(&m.market, &user.pubkey(), 1),
        ),
        (
            "another owner's address",
            ix::obligation_address(&m.market, &other.pubkey(), 0),
        ),
        ("a fresh keypair address", Keypair::new().pubkey()),
    ] {
        let mut ix = ix::init_obligation(&user.pubkey(), &user.pubkey(), &m.market, 0);
        ix.accounts[3].pubkey = address;
        let before = ctx.snapshot(&[m.market, address]);
        let err = ctx.fails(label, &[ix], &[&user]);
        assert_anchor_err(&err, AnchorError::ConstraintSeeds);
        ctx.assert_unchanged(label, &before);
    }
}

#[test]
fn init_obligation_in_something_that_is_not_a_market_fails() {
    let mut ctx = TestContext::new();
    let m = ctx.setup_market();
    let r = ctx.add_reserve(&m, &TOKEN_PROGRAM_ID, 6, 1.0, test_config([0; 32]));
    let forged = ctx.forge_copy(&m.market, anchor_lang::system_program::ID);
    let user = ctx.funded_user(1);
    for (label, market, expect) in [
        (
            "a reserve",
            r.keys.reserve,
            AnchorError::AccountDiscriminatorMismatch,
        ),
        (
            "a forged market",
            forged,
            AnchorError::AccountOwnedByWrongProgram,
        ),
    ] {
        let ix = ix::init_obligation(&user.pubkey(), &user.pubkey(), &market, 0);
        let target = ix::obligation_address(&market, &user.pubkey(), 0);
        let before = ctx.snapshot(&[market, target]);
        let err = ctx.fails(label, &[ix], &[&user]);
        assert_anchor_err(&err, expect);
        ctx.assert_unchanged(label, &before);
    }
}

// ---------------------------------------------------------------------------
// Signers
// ---------------------------------------------------------------------------

#[test]
fn deposit_rejects_wrong_and_stripped_signers() {
    for tp in TOKEN_PROGRAMS {
        let mut ctx = TestContext::new();
        let w = World::new(&mut ctx, tp);
        let l = &w.l;
        let (attacker, a_debt) = ctx.user_with_tokens(&l.debt, l.debt.units(100.0));
        let a_ob = ctx.open_obligation(&attacker, &l.m.market, 0);
        let mut accounts = w.accounts();
        accounts.extend([a_debt, a_ob]);
        let amount = l.debt.units(10.0);

        // Filling the victim's slots with his own tokens.
        let ix = ix::deposit(&attacker.pubkey(), &l.debt.keys, &l.ob, &a_debt, amount);
        fails_unchanged(
            &mut ctx,
            "deposit into another's obligation",
            ix,
            &[&attacker],
            &accounts,
            Expect::Ballast(BallastError::NotObligationOwner),
        );
        // Naming the victim as owner without his signature.
        let mut ix = ix::deposit(&l.borrower.pubkey(), &l.debt.keys, &l.ob, &l.b_debt, amount);
        ix.accounts[0].is_signer = false;
        fails_unchanged(
            &mut ctx,
            "deposit unsigned",
            ix,
            &[],
            &accounts,
            Expect::Anchor(AnchorError::AccountNotSigner),
        );
        // Spending the victim's tokens into his own obligation.
        let ix = ix::deposit(&attacker.pubkey(), &l.debt.keys, &a_ob, &l.b_debt, amount);
        fails_unchanged(
            &mut ctx,
            "deposit from another's token account",
            ix,
            &[&attacker],
            &accounts,
            Expect::Token(TOKEN_OWNER_MISMATCH),
        );
        // Spending the reserve's own vault: Anchor refuses the same mutable
        // account twice before the token program is reached.
        let ix = ix::deposit(
            &attacker.pubkey(),
            &l.debt.keys,
            &a_ob,
            &l.debt.keys.liquidity_vault,
            amount,
        );
        fails_unchanged(
            &mut ctx,
            "deposit from the vault",
            ix,
            &[&attacker],
            &accounts,
            Expect::Anchor(AnchorError::ConstraintDuplicateMutableAccount),
        );
    }
}

#[test]
fn withdraw_rejects_wrong_and_stripped_signers() {
    for tp in TOKEN_PROGRAMS {
        let mut ctx = TestContext::new();
        let w = World::new(&mut ctx, tp);
        let l = &w.l;
        let attacker = ctx.funded_user(1);
        let a_coll = ctx.token_account_for(&l.coll, &attacker.pubkey(), 0);
        let mut accounts = w.accounts();
        accounts.push(a_coll);
        let amount = l.coll.units(1.0);

        let ix = ix::withdraw(
            &attacker.pubkey(),
            &l.coll.keys,
            &l.ob,
            &a_coll,
            amount,
            vec![],
        );
        fails_unchanged(
            &mut ctx,
            "withdraw from another's obligation",
            ix,
            &[&attacker],
            &accounts,
            Expect::Ballast(BallastError::NotObligationOwner),
        );
        let mut ix = ix::withdraw(
            &l.borrower.pubkey(),
            &l.coll.keys,
            &l.ob,
            &a_coll,
            amount,
            vec![],
        );
        ix.accounts[0].is_signer = false;
        fails_unchanged(
            &mut ctx,
            "withdraw unsigned",
            ix,
            &[],
            &accounts,
            Expect::Anchor(AnchorError::AccountNotSigner),
        );
    }
}

#[test]
fn borrow_rejects_wrong_and_stripped_signers() {
    for tp in TOKEN_PROGRAMS {
        let mut ctx = TestContext::new();
        let w = World::new(&mut ctx, tp);
        let l = &w.l;
        let attacker = ctx.funded_user(1);
        let a_debt = ctx.token_account_for(&l.debt, &attacker.pubkey(), 0);
        let mut accounts = w.accounts();
        accounts.push(a_debt);
        let amount = l.debt.units(100.0);
        let health = ctx.health_accounts(&l.ob, &[&l.debt]);

        let ix = ix::borrow(
            &attacker.pubkey(),
            &l.debt.keys,
            &l.ob,
            &a_debt,
            amount,
            health.clone(),
        );
        fails_unchanged(
            &mut ctx,
            "borrow against another's obligation",
            ix,
            &[&attacker],
            &accounts,
            Expect::Ballast(BallastError::NotObligationOwner),
        );
        let mut ix = ix::borrow(
            &l.borrower.pubkey(),
            &l.debt.keys,
            &l.ob,
            &a_debt,
            amount,
            health,
        );
        ix.accounts[0].is_signer = false;
        fails_unchanged(
            &mut ctx,
            "borrow unsigned",
            ix,
            &[],
            &accounts,
            Expect::Anchor(AnchorError::AccountNotSigner),
        );
    }
}

#[test]
fn repay_rejects_stripped_signers_and_foreign_token_accounts_but_anyone_may_repay() {
    for tp in TOKEN_PROGRAMS {
        let mut ctx = TestContext::new();
        let w = World::new(&mut ctx, tp);
        let l = &w.l;
        ctx.borrow(&l.borrower, &l.debt, &l.ob, &l.b_debt, l.debt.units(500.0));
        let (helper, h_debt) = ctx.user_with_tokens(&l.debt, l.debt.units(100.0));
        let mut accounts = w.accounts();
        accounts.push(h_debt);
        let amount = l.debt.units(50.0);

        let mut ix = ix::repay(&l.borrower.pubkey(), &l.debt.keys, &l.ob, &l.b_debt, amount);
        ix.accounts[0].is_signer = false;
        fails_unchanged(
            &mut ctx,
            "repay unsigned",
            ix,
            &[],
            &accounts,
            Expect::Anchor(AnchorError::AccountNotSigner),
        );
        // The helper may not pay with the borrower's tokens.
        let ix = ix::repay(&helper.pubkey(), &l.debt.keys, &l.ob, &l.b_debt, amount);
        fails_unchanged(
            &mut ctx,
            "repay from another's token account",
            ix,
            &[&helper],
            &accounts,
            Expect::Token(TOKEN_OWNER_MISMATCH),
        );
        // With his own tokens he may repay anyone's debt.
        let debt_before = debt_now(&ctx, &l.debt, &l.ob);
        ctx.repay(&helper, &l.debt, &l.ob, &h_debt, amount);
        assert_eq!(ctx.token_balance(&h_debt).unwrap(), l.debt.units(50.0));
        assert!(debt_now(&ctx, &l.debt, &l.ob) <= debt_before - amount + 1);
        ctx.assert_vault_reconciles(&l.debt);
    }
}

// ---------------------------------------------------------------------------
// Substituted accounts
// ---------------------------------------------------------------------------

#[test]
fn deposit_rejects_substituted_accounts() {
    for tp in TOKEN_PROGRAMS {
        let mut ctx = TestContext::new();
        let w = World::new(&mut ctx, tp);
        let (l, user) = (&w.l, &w.l.borrower);
        let (cases, forged) = substitution_cases(&mut ctx, &w, &l.debt, l.ob, l.b_debt, l.b_coll);
        let amount = l.debt.units(10.0);
        run_cases(&mut ctx, &w, cases, forged, user, |c| {
            ix::deposit(&user.pubkey(), &c.keys, &c.obligation, &c.ta, amount)
        });
        // The untouched instruction goes through.
        ctx.deposit(user, &l.debt, &l.ob, &l.b_debt, amount);
    }
}

#[test]
fn withdraw_rejects_substituted_accounts() {
    for tp in TOKEN_PROGRAMS {
        let mut ctx = TestContext::new();
        let w = World::new(&mut ctx, tp);
        let (l, user) = (&w.l, &w.l.borrower);
        let (mut cases, forged) =
            substitution_cases(&mut ctx, &w, &l.coll, l.ob, l.b_coll, l.b_debt);
        cases.push(Case {
            label: "market authority of another market",
            keys: l.coll.keys,
            obligation: l.ob,
            ta: l.b_coll,
            expect: Expect::Anchor(AnchorError::ConstraintSeeds),
        });
        let amount = l.coll.units(1.0);
        let foreign_authority = ix::market_authority(&w.o.market).0;
        run_cases(&mut ctx, &w, cases, forged, user, |c| {
            let mut ix = ix::withdraw(
                &user.pubkey(),
                &c.keys,
                &c.obligation,
                &c.ta,
                amount,
                vec![],
            );
            if c.label == "market authority of another market" {
                ix.accounts[2].pubkey = foreign_authority;
            }
            ix
        });
        ctx.withdraw(user, &l.coll, &l.ob, &l.b_coll, amount);
    }
}

#[test]
fn borrow_rejects_substituted_accounts() {
    for tp in TOKEN_PROGRAMS {
        let mut ctx = TestContext::new();
        let w = World::new(&mut ctx, tp);
        let (l, user) = (&w.l, &w.l.borrower);
        let (mut cases, forged) =
            substitution_cases(&mut ctx, &w, &l.debt, l.ob, l.b_debt, l.b_coll);
        cases.push(Case {
            label: "market authority of another market",
            keys: l.debt.keys,
            obligation: l.ob,
            ta: l.b_debt,
            expect: Expect::Anchor(AnchorError::ConstraintSeeds),
        });
        let amount = l.debt.units(100.0);
        let health = ctx.health_accounts(&l.ob, &[&l.debt]);
        let foreign_authority = ix::market_authority(&w.o.market).0;
        run_cases(&mut ctx, &w, cases, forged, user, |c| {
            let mut ix = ix::borrow(
                &user.pubkey(),
                &c.keys,
                &c.obligation,
                &c.ta,
                amount,
                health.clone(),
            );
            if c.label == "market authority of another market" {
                ix.accounts[2].pubkey = foreign_authority;
            }
            ix
        });
        ctx.borrow(user, &l.debt, &l.ob, &l.b_debt, amount);
    }
}

#[test]
fn repay_rejects_substituted_accounts() {
    for tp in TOKEN_PROGRAMS {
        let mut ctx = TestContext::new();
        let w = World::new(&mut ctx, tp);
        let (l, user) = (&w.l, &w.l.borrower);
        ctx.borrow(user, &l.debt, &l.ob, &l.b_debt, l.debt.units(500.0));
        let (cases, forged) = substitution_cases(&mut ctx, &w, &l.debt, l.ob, l.b_debt, l.b_coll);
        let amount = l.debt.units(10.0);
        run_cases(&mut ctx, &w, cases, forged, user, |c| {
            ix::repay(&user.pubkey(), &c.keys, &c.obligation, &c.ta, amount)
        });
        ctx.repay(user, &l.debt, &l.ob, &l.b_debt, amount);
    }
}

/// Trust boundary: a byte-for-byte copy of a reserve of the same market,
/// owned by Ballast but at a non-PDA address, passes every account check of
/// `deposit` (discriminator, owner, `has_one` market / mint / vault / token
/// program): reserves are not re-derived from their seeds. Such an account
/// cannot exist on a real cluster (only Ballast writes Ballast-owned
/// accounts, and it creates reserves at their PDA only); a forger who could
/// write it gets a position keyed by the forgery, the real reserve untouched
/// and the vault over-funded. This test pins that the only protection is the
/// ownership of the account.
#[test]
fn program_owned_forged_reserve_is_stopped_only_by_account_ownership() {
    let mut ctx = TestContext::new();
    let w = World::new(&mut ctx, TOKEN_PROGRAM_ID);
    let l = &w.l;
    let forged = ctx.forge_copy(&l.debt.keys.reserve, ballast::ID);
    let real_before = ctx.snapshot(&[l.debt.keys.reserve]);
    let keys = ReserveKeys {
        reserve: forged,
        ..l.debt.keys
    };
    let amount = l.debt.units(10.0);
    let ix = ix::deposit(&l.borrower.pubkey(), &keys, &l.ob, &l.b_debt, amount);
    ctx.ok(
        "deposit into a program-owned forgery",
        &[ix],
        &[&l.borrower],
    );
    ctx.assert_unchanged("real reserve", &real_before);
    let ob = ctx.obligation(&l.ob);
    assert!(ob.find(&forged, PositionKind::Collateral).is_some());
    assert!(ob
        .find(&l.debt.keys.reserve, PositionKind::Collateral)
        .is_none());
    let vault = ctx.token_balance(&l.debt.keys.liquidity_vault).unwrap();
    assert_eq!(vault, ctx.reserve(&l.debt).available_amount + amount);
}

// ---------------------------------------------------------------------------
// Amounts
// ---------------------------------------------------------------------------

#[test]
fn zero_amounts_fail_with_zero_amount() {
    for tp in TOKEN_PROGRAMS {
        let mut ctx = TestContext::new();
        let w = World::new(&mut ctx, tp);
        let (l, user) = (&w.l, &w.l.borrower);
        ctx.borrow(user, &l.debt, &l.ob, &l.b_debt, l.debt.units(100.0));
        let accounts = w.accounts();
        let zero = Expect::Ballast(BallastError::ZeroAmount);
        let health = ctx.health_accounts(&l.ob, &[&l.debt]);
        let p = user.pubkey();
        for (label, ix) in [
            (
                "deposit 0",
                ix::deposit(&p, &l.debt.keys, &l.ob, &l.b_debt, 0),
            ),
            (
                "withdraw 0",
                ix::withdraw(&p, &l.coll.keys, &l.ob, &l.b_coll, 0, health.clone()),
            ),
            (
                "borrow 0",
                ix::borrow(&p, &l.debt.keys, &l.ob, &l.b_debt, 0, health.clone()),
            ),
            ("repay 0", ix::repay(&p, &l.debt.keys, &l.ob, &l.b_debt, 0)),
        ] {
            fails_unchanged(&mut ctx, label, ix, &[user], &accounts, zero);
        }
    }
}

#[test]
fn deposit_beyond_the_balance_or_the_cap_fails() {
    for tp in TOKEN_PROGRAMS {
        let mut ctx = TestContext::new();
        let w = World::new(&mut ctx, tp);
        let (l, user) = (&w.l, &w.l.borrower);
        let accounts = w.accounts();
        let p = user.pubkey();
        let balance = ctx.token_balance(&l.b_debt).unwrap();

        let ix = ix::deposit(&p, &l.debt.keys, &l.ob, &l.b_debt, balance + 1);
        fails_unchanged(
            &mut ctx,
            "deposit balance + 1",
            ix,
            &[user],
            &accounts,
            Expect::Token(TOKEN_INSUFFICIENT_FUNDS),
        );
        // u64::MAX runs into the deposit cap (u64::MAX / 4) first.
        let ix = ix::deposit(&p, &l.debt.keys, &l.ob, &l.b_debt, u64::MAX);
        fails_unchanged(
            &mut ctx,
            "deposit u64::MAX",
            ix,
            &[user],
            &accounts,
            Expect::Ballast(BallastError::DepositCapExceeded),
        );

        // Cap at supply + 500 USDC: 500 more fit exactly, one unit more not.
        let supply = ctx.reserve(&l.debt).supply().unwrap().to_num::<u64>();
        ctx.update_config(&l.m, &l.debt, |c| {
            c.deposit_cap = supply + 500_000_000;
        });
        let accounts = w.accounts();
        let ix = ix::deposit(&p, &l.debt.keys, &l.ob, &l.b_debt, 500_000_001);
        fails_unchanged(
            &mut ctx,
            "deposit above the cap",
            ix,
            &[user],
            &accounts,
            Expect::Ballast(BallastError::DepositCapExceeded),
        );
        ctx.deposit(user, &l.debt, &l.ob, &l.b_debt, 500_000_000);
        // A cap of 0 disables deposits.
        ctx.update_config(&l.m, &l.debt, |c| c.deposit_cap = 0);
        let accounts = w.accounts();
        let ix = ix::deposit(&p, &l.debt.keys, &l.ob, &l.b_debt, 1);
        fails_unchanged(
            &mut ctx,
            "deposit with a zero cap",
            ix,
            &[user],
            &accounts,
            Expect::Ballast(BallastError::DepositCapExceeded),
        );
    }
}

#[test]
fn deposit_of_u64_max_into_an_uncapped_empty_reserve_fails_in_the_token_program() {
    for tp in TOKEN_PROGRAMS {
        let mut ctx = TestContext::new();
        let m = ctx.setup_market();
        let mut config = test_config([0; 32]);
        config.deposit_cap = u64::MAX;
        let r = ctx.add_reserve(&m, &tp, 6, 1.0, config);
        let (user, ta) = ctx.user_with_tokens(&r, r.units(1_000.0));
        let o = ctx.open_obligation(&user, &m.market, 0);
        let ix = ix::deposit(&user.pubkey(), &r.keys, &o, &ta, u64::MAX);
        fails_unchanged(
            &mut ctx,
            "deposit u64::MAX uncapped",
            ix,
            &[&user],
            &[m.market, r.keys.reserve, r.keys.liquidity_vault, o, ta],
            Expect::Token(TOKEN_INSUFFICIENT_FUNDS),
        );
        assert_eq!(ctx.token_balance(&ta).unwrap(), r.units(1_000.0));
        assert_eq!(ctx.reserve(&r).available_amount, 0);
        assert_eq!(ctx.reserve(&r).deposit_shares, 0);
    }
}

#[test]
fn deposit_too_small_for_one_share_fails() {
    let mut ctx = TestContext::new();
    let w = World::new(&mut ctx, TOKEN_PROGRAM_ID);
    let (l, user) = (&w.l, &w.l.borrower);
    ctx.borrow(user, &l.debt, &l.ob, &l.b_debt, l.debt.units(1_000.0));
    ctx.warp_seconds(30 * 86_400);
    ctx.ok("accrue", &[ix::accrue_interest(&l.debt.keys.reserve)], &[]);
    let r = ctx.reserve(&l.debt);
    assert!(r.supply().unwrap() > ballast::engine::fx::fx_u64(r.deposit_shares));
    let ix = ix::deposit(&user.pubkey(), &l.debt.keys, &l.ob, &l.b_debt, 1);
    fails_unchanged(
        &mut ctx,
        "deposit 1 unit at a rate above 1",
        ix,
        &[user],
        &w.accounts(),
        Expect::Ballast(BallastError::DepositTooSmall),
    );
}

#[test]
fn withdraw_beyond_the_position_or_the_liquidity_fails() {
    for tp in TOKEN_PROGRAMS {
        let mut ctx = TestContext::new();
        let w = World::new(&mut ctx, tp);
        let (l, user) = (&w.l, &w.l.borrower);
        let accounts = w.accounts();
        let p = user.pubkey();
        let held = l.coll.units(100.0);

        let ix = ix::withdraw(&p, &l.coll.keys, &l.ob, &l.b_coll, held + 1, vec![]);
        fails_unchanged(
            &mut ctx,
            "withdraw position + 1",
            ix,
            &[user],
            &accounts,
            Expect::Ballast(BallastError::InsufficientCollateral),
        );
        let ix = ix::withdraw(&p, &l.debt.keys, &l.ob, &l.b_debt, 1, vec![]);
        fails_unchanged(
            &mut ctx,
            "withdraw without a position",
            ix,
            &[user],
            &accounts,
            Expect::Ballast(BallastError::PositionNotFound),
        );
        // The supplier's claim exceeds what is liquid once 1,000 USDC is lent.
        ctx.borrow(user, &l.debt, &l.ob, &l.b_debt, l.debt.units(1_000.0));
        let accounts = w.accounts();
        for amount in [l.debt.units(10_000.0), u64::MAX] {
            let ix = ix::withdraw(
                &l.supplier.pubkey(),
                &l.debt.keys,
                &l.so,
                &l.s_debt,
                amount,
                vec![],
            );
            fails_unchanged(
                &mut ctx,
                "supplier withdraws lent-out liquidity",
                ix,
                &[&l.supplier],
                &accounts,
                Expect::Ballast(BallastError::InsufficientLiquidity),
            );
        }
        // The exact position comes out.
        ctx.repay(user, &l.debt, &l.ob, &l.b_debt, u64::MAX);
        ctx.withdraw(user, &l.coll, &l.ob, &l.b_coll, held);
        assert!(ctx.obligation(&l.ob).health_reserves().1 == 0);
    }
}

#[test]
fn withdraw_that_breaks_the_initial_requirement_fails() {
    for tp in TOKEN_PROGRAMS {
        let mut ctx = TestContext::new();
        let w = World::new(&mut ctx, tp);
        let (l, user) = (&w.l, &w.l.borrower);
        // 1,000 USDC of debt needs 66.67 SOL at $20 x 75%.
        ctx.borrow(user, &l.debt, &l.ob, &l.b_debt, l.debt.units(1_000.0));
        let accounts = w.accounts();
        let health = ctx.health_accounts(&l.ob, &[]);
        // Leaving 66.6 SOL ($999 at the LTV) is refused.
        let ix = ix::withdraw(
            &user.pubkey(),
            &l.coll.keys,
            &l.ob,
            &l.b_coll,
            l.coll.units(33.4),
            health.clone(),
        );
        fails_unchanged(
            &mut ctx,
            "withdraw below the initial requirement",
            ix,
            &[user],
            &accounts,
            Expect::Ballast(BallastError::InitialRequirementNotMet),
        );
        // u64::MAX (everything) too. The emptied slot stays open through
        // the check, so the health accounts are those before the withdraw.
        let ix = ix::withdraw(
            &user.pubkey(),
            &l.coll.keys,
            &l.ob,
            &l.b_coll,
            u64::MAX,
            health.clone(),
        );
        fails_unchanged(
            &mut ctx,
            "withdraw everything with debt",
            ix,
            &[user],
            &accounts,
            Expect::Ballast(BallastError::InitialRequirementNotMet),
        );
        // Naming only the reserves left after the withdraw is a mismatch.
        let debt_only = vec![
            AccountMeta::new_readonly(l.debt.keys.reserve, false),
            AccountMeta::new_readonly(l.debt.keys.oracle, false),
        ];
        let ix = ix::withdraw(
            &user.pubkey(),
            &l.coll.keys,
            &l.ob,
            &l.b_coll,
            u64::MAX,
            debt_only,
        );
        fails_unchanged(
            &mut ctx,
            "withdraw everything, post-withdraw health accounts",
            ix,
            &[user],
            &accounts,
            Expect::Ballast(BallastError::HealthAccountsMismatch),
        );
        // Leaving 66.7 SOL ($1,000.50) is fine.
        ctx.withdraw(user, &l.coll, &l.ob, &l.b_coll, l.coll.units(33.3));
        assert_eq!(
            ctx.obligation(&l.ob).positions[0].deposit_shares,
            l.coll.units(66.7)
        );
    }
}

#[test]
fn borrow_beyond_liquidity_ltv_caps_or_utilisation_fails() {
    for tp in TOKEN_PROGRAMS {
        let mut ctx = TestContext::new();
        let w = World::new(&mut ctx, tp);
        let (l, user) = (&w.l, &w.l.borrower);
        let p = user.pubkey();
        let health = ctx.health_accounts(&l.ob, &[&l.debt]);
        let accounts = w.accounts();
        let borrow =
            |amount| ix::borrow(&p, &l.debt.keys, &l.ob, &l.b_debt, amount, health.clone());

        // More than the vault holds (10,000 USDC), within every cap.
        fails_unchanged(
            &mut ctx,
            "borrow above liquidity",
            borrow(l.debt.units(10_000.0) + 1),
            &[user],
            &accounts,
            Expect::Ballast(BallastError::InsufficientLiquidity),
        );
        // 100 SOL x $20 x 75% = $1,500 exactly: one unit more is refused.
        fails_unchanged(
            &mut ctx,
            "borrow above LTV",
            borrow(l.debt.units(1_500.0) + 1),
            &[user],
            &accounts,
            Expect::Ballast(BallastError::InitialRequirementNotMet),
        );

        // Borrow cap of 100 USDC.
        ctx.update_config(&l.m, &l.debt, |c| c.borrow_cap = 100_000_000);
        let accounts = w.accounts();
        fails_unchanged(
            &mut ctx,
            "borrow above the cap",
            borrow(100_000_001),
            &[user],
            &accounts,
            Expect::Ballast(BallastError::BorrowCapExceeded),
        );
        ctx.ok("borrow up to the cap", &[borrow(100_000_000)], &[user]);
        let accounts = w.accounts();
        fails_unchanged(
            &mut ctx,
            "borrow one unit more",
            borrow(1),
            &[user],
            &accounts,
            Expect::Ballast(BallastError::BorrowCapExceeded),
        );
        // A cap of 0 disables borrows.
        ctx.repay(user, &l.debt, &l.ob, &l.b_debt, u64::MAX);
        ctx.update_config(&l.m, &l.debt, |c| c.borrow_cap = 0);
        let accounts = w.accounts();
        fails_unchanged(
            &mut ctx,
            "borrow with a zero cap",
            borrow(1),
            &[user],
            &accounts,
            Expect::Ballast(BallastError::BorrowCapExceeded),
        );

        // Max utilisation 6.25% (exact in binary) of the 10,000 USDC supply.
        ctx.update_config(&l.m, &l.debt, |c| {
            c.borrow_cap = u64::MAX / 4;
            c.max_utilization_bps = 625;
        });
        let supply = ctx.reserve(&l.debt).supply().unwrap();
        assert_eq!(supply, ballast::engine::fx::fx_u64(l.debt.units(10_000.0)));
        let accounts = w.accounts();
        fails_unchanged(
            &mut ctx,
            "borrow above max utilisation",
            borrow(l.debt.units(625.0) + 1),
            &[user],
            &accounts,
            Expect::Ballast(BallastError::MaxUtilizationExceeded),
        );
        ctx.ok(
            "borrow to max utilisation",
            &[borrow(l.debt.units(625.0))],
            &[user],
        );
    }
}

/// 100 SOL at $20 with a 75% LTV support exactly $1,500 of debt; 1,499.99
/// USDC leaves a relative margin of 6.7e-6, which the engine's precision
/// must resolve. Regression: the engine committed at 3b4935b took its
/// divide-first path here (1e11 units x 1.5e13 overflows `Fx`), dividing by
/// 1e21 first kept ~15 significant bits, valued the collateral at
/// ~$1,499.973 and refused this borrow with `InitialRequirementNotMet`.
#[test]
fn borrow_just_under_the_ltv_limit_succeeds() {
    let mut ctx = TestContext::new();
    let w = World::new(&mut ctx, TOKEN_PROGRAM_ID);
    let (l, user) = (&w.l, &w.l.borrower);
    ctx.borrow(user, &l.debt, &l.ob, &l.b_debt, l.debt.units(1_499.99));
    assert_eq!(
        ctx.token_balance(&l.b_debt).unwrap(),
        l.debt.units(2_499.99)
    );
}

#[test]
fn borrow_well_under_the_ltv_limit_succeeds() {
    for tp in TOKEN_PROGRAMS {
        let mut ctx = TestContext::new();
        let w = World::new(&mut ctx, tp);
        let (l, user) = (&w.l, &w.l.borrower);
        ctx.borrow(user, &l.debt, &l.ob, &l.b_debt, l.debt.units(1_499.0));
        assert_eq!(ctx.token_balance(&l.b_debt).unwrap(), l.debt.units(2_499.0));
        ctx.assert_vault_reconciles(&l.debt);
        // Nothing more fits.
        let health = ctx.health_accounts(&l.ob, &[]);
        let ix = ix::borrow(
            &user.pubkey(),
            &l.debt.keys,
            &l.ob,
            &l.b_debt,
            l.debt.units(1.01),
            health,
        );
        fails_unchanged(
            &mut ctx,
            "borrow past the LTV in a second step",
            ix,
            &[user],
            &w.accounts(),
            Expect::Ballast(BallastError::InitialRequirementNotMet),
        );
    }
}

#[test]
fn repay_with_nothing_owed_fails() {
    for tp in TOKEN_PROGRAMS {
        let mut ctx = TestContext::new();
        let w = World::new(&mut ctx, tp);
        let (l, user) = (&w.l, &w.l.borrower);
        let accounts = w.accounts();
        let p = user.pubkey();
        for (label, ix) in [
            (
                "repay without any debt",
                ix::repay(&p, &l.debt.keys, &l.ob, &l.b_debt, 1_000),
            ),
            (
                "repay in a collateral reserve",
                ix::repay(&p, &l.coll.keys, &l.ob, &l.b_coll, 1_000),
            ),
            (
                "repay u64::MAX without debt",
                ix::repay(&p, &l.debt.keys, &l.ob, &l.b_debt, u64::MAX),
            ),
        ] {
            fails_unchanged(
                &mut ctx,
                label,
                ix,
                &[user],
                &accounts,
                Expect::Ballast(BallastError::NothingToRepay),
            );
        }
        // Once repaid in full, a second repay owes nothing either.
        ctx.borrow(user, &l.debt, &l.ob, &l.b_debt, l.debt.units(10.0));
        ctx.repay(user, &l.debt, &l.ob, &l.b_debt, u64::MAX);
        let accounts = w.accounts();
        fails_unchanged(
            &mut ctx,
            "repay after repaying everything",
            ix::repay(&p, &l.debt.keys, &l.ob, &l.b_debt, 1),
            &[user],
            &accounts,
            Expect::Ballast(BallastError::NothingToRepay),
        );
    }
}

#[test]
fn repay_of_more_than_owed_takes_exactly_the_debt_and_closes_the_position() {
    for tp in TOKEN_PROGRAMS {
        let mut ctx = TestContext::new();
        let w = World::new(&mut ctx, tp);
        let (l, user) = (&w.l, &w.l.borrower);
        ctx.borrow(user, &l.debt, &l.ob, &l.b_debt, l.debt.units(1_000.0));
        ctx.warp_seconds(45 * 86_400 + 17);
        let debt = debt_now(&ctx, &l.debt, &l.ob);
        assert!(debt > l.debt.units(1_000.0), "interest accrued: {debt}");
        let balance = ctx.token_balance(&l.b_debt).unwrap();
        assert!(balance > debt + 1_000);
        let shares = ctx.reserve(&l.debt).borrow_shares;

        ctx.repay(user, &l.debt, &l.ob, &l.b_debt, debt + 1_000);
        assert_eq!(ctx.token_balance(&l.b_debt).unwrap(), balance - debt);
        let ob = ctx.obligation(&l.ob);
        assert!(ob.find(&l.debt.keys.reserve, PositionKind::Debt).is_none());
        assert!(!ob.has_debt());
        let r = ctx.reserve(&l.debt);
        assert!(r.borrow_shares.get() < shares.get());
        assert_eq!(r.borrow_shares.get(), ballast::engine::fx::FX_ZERO);
        ctx.assert_vault_reconciles(&l.debt);
        // The collateral is free again: withdraw needs no oracle.
        ctx.withdraw(user, &l.coll, &l.ob, &l.b_coll, u64::MAX);
    }
}

// ---------------------------------------------------------------------------
// Pause
// ---------------------------------------------------------------------------

#[test]
fn paused_market_refuses_borrow_and_withdraw_but_accepts_deposit_and_repay() {
    for tp in TOKEN_PROGRAMS {
        let mut ctx = TestContext::new();
        let w = World::new(&mut ctx, tp);
        let (l, user) = (&w.l, &w.l.borrower);
        ctx.borrow(user, &l.debt, &l.ob, &l.b_debt, l.debt.units(100.0));
        ctx.set_paused(&l.m, true);
        let accounts = w.accounts();
        let p = user.pubkey();
        let paused = Expect::Ballast(BallastError::MarketPaused);
        let borrow_health = ctx.health_accounts(&l.ob, &[&l.debt]);
        let health = ctx.health_accounts(&l.ob, &[]);
        fails_unchanged(
            &mut ctx,
            "borrow while paused",
            ix::borrow(&p, &l.debt.keys, &l.ob, &l.b_debt, 1_000_000, borrow_health),
            &[user],
            &accounts,
            paused,
        );
        fails_unchanged(
            &mut ctx,
            "withdraw (with debt) while paused",
            ix::withdraw(&p, &l.coll.keys, &l.ob, &l.b_coll, 1_000, health),
            &[user],
            &accounts,
            paused,
        );
        fails_unchanged(
            &mut ctx,
            "withdraw (no debt) while paused",
            ix::withdraw(
                &l.supplier.pubkey(),
                &l.debt.keys,
                &l.so,
                &l.s_debt,
                1_000,
                vec![],
            ),
            &[&l.supplier],
            &accounts,
            paused,
        );
        // An unpaused market of the attacker's cannot stand in for it.
        let decoy = ctx.setup_market();
        let decoy_keys = ReserveKeys {
            market: decoy.market,
            ..l.debt.keys
        };
        let borrow_health = ctx.health_accounts(&l.ob, &[&l.debt]);
        fails_unchanged(
            &mut ctx,
            "borrow through an unpaused decoy market",
            ix::borrow(&p, &decoy_keys, &l.ob, &l.b_debt, 1_000_000, borrow_health),
            &[user],
            &accounts,
            Expect::Ballast(BallastError::WrongMarket),
        );
        // Deposit and repay de-risk and stay open.
        ctx.deposit(user, &l.coll, &l.ob, &l.b_coll, l.coll.units(1.0));
        ctx.repay(user, &l.debt, &l.ob, &l.b_debt, u64::MAX);
        assert!(!ctx.obligation(&l.ob).has_debt());
        ctx.assert_vault_reconciles(&l.debt);
        // Unpaused, borrowing works again.
        ctx.set_paused(&l.m, false);
        ctx.borrow(user, &l.debt, &l.ob, &l.b_debt, 1_000_000);
    }
}

// ---------------------------------------------------------------------------
// Full obligation
// ---------------------------------------------------------------------------

#[test]
fn ninth_position_fails_with_obligation_full() {
    let mut ctx = TestContext::new();
    let m = ctx.setup_market();
    let reserves: Vec<TestReserve> = (0..9)
        .map(|i| {
            let tp = TOKEN_PROGRAMS[i % 2];
            ctx.add_reserve(&m, &tp, 6, 1.0, test_config([0; 32]))
        })
        .collect();
    let user = ctx.funded_user(10);
    let o = ctx.open_obligation(&user, &m.market, 0);
    let tas: Vec<Address> = reserves
        .iter()
        .map(|r| ctx.token_account_for(r, &user.pubkey(), r.units(100.0)))
        .collect();
    for i in 0..8 {
        ctx.deposit(&user, &reserves[i], &o, &tas[i], reserves[i].units(10.0));
    }
    assert_eq!(ctx.obligation(&o).health_reserves().1, 8);
    let ninth = &reserves[8];
    let accounts = [
        m.market,
        ninth.keys.reserve,
        ninth.keys.liquidity_vault,
        o,
        tas[8],
    ];

    let ix = ix::deposit(&user.pubkey(), &ninth.keys, &o, &tas[8], ninth.units(10.0));
    fails_unchanged(
        &mut ctx,
        "9th deposit",
        ix,
        &[&user],
        &accounts,
        Expect::Ballast(BallastError::ObligationFull),
    );
    // A 9th position by borrowing is refused the same way.
    let (supplier, s_ta) = ctx.user_with_tokens(ninth, ninth.units(1_000.0));
    let so = ctx.open_obligation(&supplier, &m.market, 0);
    ctx.deposit(&supplier, ninth, &so, &s_ta, ninth.units(1_000.0));
    let health = ctx.health_accounts(&o, &[]);
    let ix = ix::borrow(&user.pubkey(), &ninth.keys, &o, &tas[8], 1_000, health);
    fails_unchanged(
        &mut ctx,
        "9th position by borrow",
        ix,
        &[&user],
        &accounts,
        Expect::Ballast(BallastError::ObligationFull),
    );
    // Topping up an existing position still works, and so does the 9th once
    // a slot is freed.
    ctx.deposit(&user, &reserves[0], &o, &tas[0], reserves[0].units(1.0));
    ctx.withdraw(&user, &reserves[3], &o, &tas[3], u64::MAX);
    ctx.deposit(&user, ninth, &o, &tas[8], ninth.units(10.0));
    assert!(ctx
        .obligation(&o)
        .find(&ninth.keys.reserve, PositionKind::Collateral)
        .is_some());
}
