//! The CPI example program (`programs/ballast-vault-example`) on the real
//! `ballast.so` and `ballast_vault_example.so`: a vault whose PDA owns a
//! Ballast obligation, deposits and withdraws by CPI for its users, and
//! refuses deposits while the reserve's liquidity coverage (read by CPI from
//! `balance_sheet`) is below its threshold.

use anchor_lang::AnchorDeserialize;
use ballast::engine::balance_sheet::BalanceSheet;
use ballast::errors::BallastError;
use ballast::state::PositionKind;
use ballast_tests::*;
use ballast_vault_example::errors::VaultError;
use ballast_vault_example::events::{VaultDeposited, VaultWithdrawn};
use solana_instruction::Instruction;

fn vault_code(e: VaultError) -> u32 {
    anchor_lang::error::ERROR_CODE_OFFSET + e as u32
}

fn ballast_code(e: BallastError) -> u32 {
    anchor_lang::error::ERROR_CODE_OFFSET + e as u32
}

fn anchor_code(e: anchor_lang::error::ErrorCode) -> u32 {
    e as u32
}

/// The vault obligation's Ballast deposit shares in the vault's reserve.
fn obligation_shares(ctx: &TestContext, v: &TestVault) -> u64 {
    let o = ctx.obligation(&v.obligation);
    o.find(&v.reserve.keys.reserve, PositionKind::Collateral)
        .map_or(0, |i| o.positions[i].deposit_shares)
}

/// The reserve's liquidity coverage as Ballast's `balance_sheet` returns it.
fn coverage_bps(ctx: &mut TestContext, r: &TestReserve) -> u32 {
    let meta = ctx
        .chain
        .send(&[ix::balance_sheet(&r.keys)], &[])
        .expect("balance_sheet");
    BalanceSheet::try_from_slice(&meta.return_data.data)
        .expect("documented layout")
        .liquidity_coverage_bps
}

/// The vault's shares add up: the users' ledger = the vault's total = the
/// obligation's position in Ballast; the vault's token account is empty.
fn assert_vault_books(ctx: &TestContext, v: &TestVault, users: &[&Keypair]) {
    let sum: u64 = users.iter().map(|u| ctx.vault_shares(v, &u.pubkey())).sum();
    let vault = ctx.vault(v);
    assert_eq!(vault.total_shares, sum, "vault total vs users' shares");
    assert_eq!(
        obligation_shares(ctx, v),
        sum,
        "Ballast position vs users' shares"
    );
    assert_eq!(ctx.token_balance(&v.token_account).unwrap(), 0);
}

#[test]
fn vault_pools_deposits_and_withdrawals_by_cpi() {
    for tp in TOKEN_PROGRAMS {
        let mut ctx = TestContext::new();
        ctx.load_vault_program();
        let l = ctx.lending(&tp);
        let v = ctx.create_vault(&l.debt, 0);
        let o = ctx.obligation(&v.obligation);
        assert_eq!(o.owner, v.vault, "the vault PDA owns the obligation");
        assert_eq!(o.market, l.m.market);

        let (alice, a_ta) = ctx.vault_user(&v, l.debt.units(1_000.0));
        let (bob, b_ta) = ctx.vault_user(&v, l.debt.units(500.0));
        let logs = ctx.ok_logs(
            "vault deposit",
            &[vault_ix::deposit(
                &alice.pubkey(),
                &v,
                &a_ta,
                l.debt.units(1_000.0),
            )],
            &[&alice],
        );
        let ev: Vec<VaultDeposited> = events(&logs);
        assert_eq!(ev.len(), 1);
        assert_eq!(ev[0].amount, l.debt.units(1_000.0));
        assert_eq!(ev[0].shares, ctx.vault_shares(&v, &alice.pubkey()));
        assert!(ev[0].shares > 0);
        ctx.ok(
            "vault deposit",
            &[vault_ix::deposit(
                &bob.pubkey(),
                &v,
                &b_ta,
                l.debt.units(500.0),
            )],
            &[&bob],
        );
        assert_eq!(ctx.token_balance(&a_ta).unwrap(), 0);
        assert_eq!(ctx.token_balance(&b_ta).unwrap(), 0);
        assert_vault_books(&ctx, &v, &[&alice, &bob]);

        // Interest: the borrower takes 1,000 USDC for 30 days; the vault's
        // users earn Ballast's supply rate through the shares.
        ctx.borrow(
            &l.borrower,
            &l.debt,
            &l.ob,
            &l.b_debt,
            l.debt.units(1_000.0),
        );
        ctx.warp_seconds(30 * 86_400);
        let bob_shares = ctx.vault_shares(&v, &bob.pubkey());
        let logs = ctx.ok_logs(
            "vault withdraw all",
            &[vault_ix::withdraw(&bob.pubkey(), &v, &b_ta, u64::MAX)],
            &[&bob],
        );
        let got = ctx.token_balance(&b_ta).unwrap();
        assert!(got > l.debt.units(500.0), "interest earned: {got}");
        let ev: Vec<VaultWithdrawn> = events(&logs);
        assert_eq!((ev[0].amount, ev[0].shares), (got, bob_shares));
        assert_eq!(ctx.vault_shares(&v, &bob.pubkey()), 0);

        let alice_before = ctx.vault_shares(&v, &alice.pubkey());
        let pos_before = obligation_shares(&ctx, &v);
        ctx.ok(
            "vault withdraw",
            &[vault_ix::withdraw(
                &alice.pubkey(),
                &v,
                &a_ta,
                l.debt.units(100.0),
            )],
            &[&alice],
        );
        assert_eq!(ctx.token_balance(&a_ta).unwrap(), l.debt.units(100.0));
        let burned = pos_before - obligation_shares(&ctx, &v);
        assert!(burned > 0);
        assert_eq!(ctx.vault_shares(&v, &alice.pubkey()), alice_before - burned);
        assert_vault_books(&ctx, &v, &[&alice, &bob]);

        // Deposits go on while the market is paused (as Ballast's own
        // deposit does); withdrawals stop with Ballast's error.
        ctx.set_paused(&l.m, true);
        ctx.mint_to(&l.debt.keys.mint, &a_ta, l.debt.units(1.0))
            .unwrap();
        ctx.ok(
            "vault deposit (paused)",
            &[vault_ix::deposit(
                &alice.pubkey(),
                &v,
                &a_ta,
                l.debt.units(1.0),
            )],
            &[&alice],
        );
        let err = ctx.fails(
            "vault withdraw (paused)",
            &[vault_ix::withdraw(&alice.pubkey(), &v, &a_ta, 1)],
            &[&alice],
        );
        assert_code(&err, ballast_code(BallastError::MarketPaused));
        ctx.set_paused(&l.m, false);

        // Alice leaves with everything: the vault's position is closed.
        ctx.ok(
            "vault withdraw all",
            &[vault_ix::withdraw(&alice.pubkey(), &v, &a_ta, u64::MAX)],
            &[&alice],
        );
        assert_eq!(ctx.vault_shares(&v, &alice.pubkey()), 0);
        assert_vault_books(&ctx, &v, &[&alice, &bob]);
        ctx.assert_books("after the vault", &l.debt, &[l.so, l.ob, v.obligation]);
    }
}

#[test]
fn vault_refuses_deposits_while_coverage_is_below_its_threshold() {
    let mut ctx = TestContext::new();
    ctx.load_vault_program();
    let l = ctx.lending(&TOKEN_PROGRAM_ID);
    // Stress a full run: coverage = liquid / depositors' claims.
    ctx.update_config(&l.m, &l.debt, |c| c.liquidity.stress_outflow_bps = 10_000);
    let v = ctx.create_vault(&l.debt, 9_000);
    let (alice, a_ta) = ctx.vault_user(&v, l.debt.units(1_000.0));
    assert_eq!(coverage_bps(&mut ctx, &l.debt), 10_000);
    ctx.ok(
        "vault deposit",
        &[vault_ix::deposit(
            &alice.pubkey(),
            &v,
            &a_ta,
            l.debt.units(100.0),
        )],
        &[&alice],
    );

    // The borrower takes 1,400 of 10,100: coverage falls to about 86%.
    ctx.borrow(
        &l.borrower,
        &l.debt,
        &l.ob,
        &l.b_debt,
        l.debt.units(1_400.0),
    );
    let c = coverage_bps(&mut ctx, &l.debt);
    assert!(c < 9_000, "coverage {c}");
    let accounts = [
        v.vault,
        v.obligation,
        l.debt.keys.reserve,
        a_ta,
        v.token_account,
    ];
    let before = ctx.snapshot(&accounts);
    let deposit = vault_ix::deposit(&alice.pubkey(), &v, &a_ta, l.debt.units(100.0));
    let err = ctx.fails("below threshold", std::slice::from_ref(&deposit), &[&alice]);
    assert_code(&err, vault_code(VaultError::CoverageBelowThreshold));
    ctx.assert_unchanged("below threshold", &before);

    // The gate is exact: at the threshold + 1 refused, at the threshold let in.
    let admin = v.admin.insecure_clone();
    let set = |bps| vault_ix::set_min_coverage(&admin.pubkey(), &v.vault, bps);
    ctx.ok("vault set_min_coverage", &[set(c + 1)], &[&admin]);
    let err = ctx.fails("threshold + 1", std::slice::from_ref(&deposit), &[&alice]);
    assert_code(&err, vault_code(VaultError::CoverageBelowThreshold));
    ctx.ok("vault set_min_coverage", &[set(c)], &[&admin]);
    let logs = ctx.ok_logs("vault deposit", std::slice::from_ref(&deposit), &[&alice]);
    let ev: Vec<VaultDeposited> = events(&logs);
    assert_eq!(ev[0].coverage_bps, c, "the coverage the gate read");

    // Back at 90%: refused until the borrower repays.
    ctx.ok("vault set_min_coverage", &[set(9_000)], &[&admin]);
    ctx.fails("before repay", std::slice::from_ref(&deposit), &[&alice]);
    ctx.mint_to(&l.debt.keys.mint, &l.b_debt, l.debt.units(10.0))
        .unwrap();
    ctx.repay(&l.borrower, &l.debt, &l.ob, &l.b_debt, u64::MAX);
    assert!(coverage_bps(&mut ctx, &l.debt) >= 9_000);
    ctx.ok("vault deposit", &[deposit], &[&alice]);
    assert_vault_books(&ctx, &v, &[&alice]);
}

/// One refused instruction: what it is, who signs, which error it must
/// raise (a custom code: the vault's, Ballast's through the CPI, Anchor's or
/// the token program's).
struct Case {
    label: &'static str,
    ix: Instruction,
    signers: Vec<Keypair>,
    code: u32,
}

fn unsigned(mut ix: Instruction, who: &Address) -> Instruction {
    for m in ix.accounts.iter_mut().filter(|m| m.pubkey == *who) {
        m.is_signer = false;
    }
    ix
}

#[test]
fn vault_refuses_wrong_signers_and_substituted_ballast_accounts() {
    use anchor_lang::error::ErrorCode as A;
    let mut ctx = TestContext::new();
    ctx.load_vault_program();
    let l = ctx.lending(&TOKEN_PROGRAM_ID);
    let other = ctx.setup_market();
    let v = ctx.create_vault(&l.debt, 0);
    let (alice, a_ta) = ctx.vault_user(&v, l.debt.units(2_000.0));
    let (bob, b_ta) = ctx.vault_user(&v, l.debt.units(500.0));
    let (mallory, m_ta) = ctx.vault_user(&v, l.debt.units(100.0));
    ctx.ok(
        "vault deposit",
        &[vault_ix::deposit(
            &alice.pubkey(),
            &v,
            &a_ta,
            l.debt.units(1_000.0),
        )],
        &[&alice],
    );
    ctx.ok(
        "vault deposit",
        &[vault_ix::deposit(
            &bob.pubkey(),
            &v,
            &b_ta,
            l.debt.units(500.0),
        )],
        &[&bob],
    );
    let forged_reserve = ctx.forge_copy(&l.debt.keys.reserve, ballast_vault_example::ID);
    let sol_ta = ctx.token_account_for(&l.coll, &alice.pubkey(), 0);

    let (a, u) = (alice.pubkey(), l.debt.units(1.0));
    let dep = |f: &dyn Fn(&mut ballast_vault_example::accounts::VaultDeposit)| {
        let mut acc = vault_ix::deposit_accounts(&a, &v, &a_ta);
        f(&mut acc);
        vault_ix::deposit_with(acc, u)
    };
    let wd = |f: &dyn Fn(&mut ballast_vault_example::accounts::VaultWithdraw)| {
        let mut acc = vault_ix::withdraw_accounts(&a, &v, &a_ta);
        f(&mut acc);
        vault_ix::withdraw_with(acc, u)
    };
    let c = |k: &Keypair| k.insecure_clone();
    let wrong = vault_code(VaultError::WrongBallastAccount);
    let cases = vec![
        Case {
            label: "deposit: user does not sign",
            ix: unsigned(dep(&|_| {}), &a),
            signers: vec![],
            code: anchor_code(A::AccountNotSigner),
        },
        Case {
            label: "deposit: into another user's ledger entry",
            ix: dep(&|acc| {
                acc.user = mallory.pubkey();
                acc.user_token_account = m_ta;
            }),
            signers: vec![c(&mallory)],
            code: anchor_code(A::ConstraintSeeds),
        },
        Case {
            label: "deposit: another reserve of the market",
            ix: dep(&|acc| acc.ballast_reserve = l.coll.keys.reserve),
            signers: vec![c(&alice)],
            code: wrong,
        },
        Case {
            label: "deposit: forged reserve (copy owned by another program)",
            ix: dep(&|acc| acc.ballast_reserve = forged_reserve),
            signers: vec![c(&alice)],
            code: anchor_code(A::AccountOwnedByWrongProgram),
        },
        Case {
            label: "deposit: another obligation of the market",
            ix: dep(&|acc| acc.obligation = l.so),
            signers: vec![c(&alice)],
            code: wrong,
        },
        Case {
            label: "deposit: another market",
            ix: dep(&|acc| acc.ballast_market = other.market),
            signers: vec![c(&alice)],
            code: wrong,
        },
        Case {
            label: "deposit: another mint",
            ix: dep(&|acc| {
                acc.mint = l.coll.keys.mint;
                acc.user_token_account = sol_ta;
            }),
            signers: vec![c(&alice)],
            code: wrong,
        },
        Case {
            label: "deposit: the user's account as the vault's token account",
            ix: dep(&|acc| acc.vault_token_account = b_ta),
            signers: vec![c(&alice)],
            code: wrong,
        },
        Case {
            label: "deposit: another reserve's insurance vault",
            ix: dep(&|acc| acc.insurance_vault = l.coll.keys.insurance_vault),
            signers: vec![c(&alice)],
            code: ballast_code(BallastError::ReserveAccountMismatch),
        },
        Case {
            label: "deposit: another reserve's liquidity vault",
            ix: dep(&|acc| acc.liquidity_vault = l.coll.keys.liquidity_vault),
            signers: vec![c(&alice)],
            code: ballast_code(BallastError::ReserveAccountMismatch),
        },
        Case {
            label: "deposit: not the Ballast program",
            ix: dep(&|acc| acc.ballast_program = TOKEN_PROGRAM_ID),
            signers: vec![c(&alice)],
            code: anchor_code(A::InvalidProgramId),
        },
        Case {
            label: "deposit: zero",
            ix: vault_ix::deposit(&a, &v, &a_ta, 0),
            signers: vec![c(&alice)],
            code: vault_code(VaultError::ZeroAmount),
        },
        Case {
            label: "deposit: u64::MAX (more than the user holds)",
            ix: vault_ix::deposit(&a, &v, &a_ta, u64::MAX),
            signers: vec![c(&alice)],
            code: TOKEN_INSUFFICIENT_FUNDS,
        },
        Case {
            label: "withdraw: user does not sign",
            ix: unsigned(wd(&|_| {}), &a),
            signers: vec![],
            code: anchor_code(A::AccountNotSigner),
        },
        Case {
            label: "withdraw: from another user's ledger entry",
            ix: wd(&|acc| {
                acc.user = mallory.pubkey();
                acc.user_token_account = m_ta;
            }),
            signers: vec![c(&mallory)],
            code: anchor_code(A::ConstraintSeeds),
        },
        Case {
            label: "withdraw: more than the user's shares",
            ix: vault_ix::withdraw(&bob.pubkey(), &v, &b_ta, l.debt.units(600.0)),
            signers: vec![c(&bob)],
            code: vault_code(VaultError::InsufficientShares),
        },
        Case {
            label: "withdraw: another obligation of the market",
            ix: wd(&|acc| acc.obligation = l.so),
            signers: vec![c(&alice)],
            code: wrong,
        },
        Case {
            label: "withdraw: another reserve of the market",
            ix: wd(&|acc| acc.ballast_reserve = l.coll.keys.reserve),
            signers: vec![c(&alice)],
            code: wrong,
        },
        Case {
            label: "withdraw: a fake market authority",
            ix: wd(&|acc| acc.market_authority = other.market),
            signers: vec![c(&alice)],
            code: anchor_code(A::ConstraintSeeds),
        },
        Case {
            label: "withdraw: another reserve's liquidity vault",
            ix: wd(&|acc| acc.liquidity_vault = l.coll.keys.liquidity_vault),
            signers: vec![c(&alice)],
            code: ballast_code(BallastError::ReserveAccountMismatch),
        },
        Case {
            label: "withdraw: not the Ballast program",
            ix: wd(&|acc| acc.ballast_program = TOKEN_PROGRAM_ID),
            signers: vec![c(&alice)],
            code: anchor_code(A::InvalidProgramId),
        },
        Case {
            label: "withdraw: zero",
            ix: vault_ix::withdraw(&a, &v, &a_ta, 0),
            signers: vec![c(&alice)],
            code: vault_code(VaultError::ZeroAmount),
        },
        Case {
            label: "withdraw: everything, holding no shares",
            ix: vault_ix::withdraw(&mallory.pubkey(), &v, &m_ta, u64::MAX),
            signers: vec![c(&mallory)],
            code: vault_code(VaultError::ZeroAmount),
        },
        Case {
            label: "set_min_coverage: not the admin",
            ix: vault_ix::set_min_coverage(&mallory.pubkey(), &v.vault, 0),
            signers: vec![c(&mallory)],
            code: vault_code(VaultError::NotVaultAdmin),
        },
        Case {
            label: "set_min_coverage: admin does not sign",
            ix: unsigned(
                vault_ix::set_min_coverage(&v.admin.pubkey(), &v.vault, 0),
                &v.admin.pubkey(),
            ),
            signers: vec![],
            code: anchor_code(A::AccountNotSigner),
        },
    ];
    let watched = [
        v.vault,
        v.obligation,
        v.token_account,
        depositor_address(&v.vault, &a),
        depositor_address(&v.vault, &bob.pubkey()),
        depositor_address(&v.vault, &mallory.pubkey()),
        l.debt.keys.reserve,
        l.debt.keys.liquidity_vault,
        l.so,
        a_ta,
        b_ta,
        m_ta,
    ];
    for case in &cases {
        let before = ctx.snapshot(&watched);
        let signers: Vec<&Keypair> = case.signers.iter().collect();
        let err = ctx.fails(case.label, std::slice::from_ref(&case.ix), &signers);
        println!("case: {} -> {err:?}", case.label);
        assert_code(&err, case.code);
        ctx.assert_unchanged(case.label, &before);
    }
    assert_vault_books(&ctx, &v, &[&alice, &bob, &mallory]);
}

#[test]
fn init_vault_refuses_mismatched_ballast_accounts() {
    let mut ctx = TestContext::new();
    ctx.load_vault_program();
    let l = ctx.lending(&TOKEN_PROGRAM_ID);
    let other = ctx.setup_market();
    let admin = ctx.funded_user(10);
    let wrong = vault_code(VaultError::WrongBallastAccount);

    // The reserve is not of the market given.
    let mut ix = vault_ix::init_vault(&admin.pubkey(), &l.debt, 0);
    ix.accounts[1].pubkey = other.market;
    let err = ctx.fails("reserve of another market", &[ix], &[&admin]);
    assert_code(&err, wrong);

    // The mint is not the reserve's.
    let mut ix = vault_ix::init_vault(&admin.pubkey(), &l.debt, 0);
    ix.accounts[3].pubkey = l.coll.keys.mint;
    let err = ctx.fails("another mint", &[ix], &[&admin]);
    assert_code(&err, wrong);

    // The obligation is not the vault's PDA: Ballast's seeds refuse it.
    let mut ix = vault_ix::init_vault(&admin.pubkey(), &l.debt, 0);
    ix.accounts[6].pubkey = ix::obligation_address(&l.m.market, &admin.pubkey(), 0);
    let err = ctx.fails("obligation of another owner", &[ix], &[&admin]);
    assert_code(
        &err,
        anchor_code(anchor_lang::error::ErrorCode::ConstraintSeeds),
    );

    // Admin does not sign.
    let ix = unsigned(
        vault_ix::init_vault(&admin.pubkey(), &l.debt, 0),
        &admin.pubkey(),
    );
    let err = ctx.fails("admin does not sign", &[ix], &[]);
    assert_code(
        &err,
        anchor_code(anchor_lang::error::ErrorCode::AccountNotSigner),
    );

    // Once, then never again over the same reserve.
    let v = ctx.create_vault(&l.debt, 0);
    assert_eq!(ctx.vault(&v).ballast_reserve, l.debt.keys.reserve);
    let again = vault_ix::init_vault(&admin.pubkey(), &l.debt, 0);
    ctx.fails("second vault of the reserve", &[again], &[&admin]);
}
