//! The e2e tests' stand-in for the Pyth receiver
//! (`tests/programs/mock-pyth-receiver`, loaded at the receiver's id) on
//! LiteSVM: the `PriceUpdateV2` accounts it writes pass Ballast's oracle
//! checks as the real receiver's do (a borrow prices with them), a partial
//! verification it records is refused by Ballast as the real one would be,
//! and it refuses a write by another authority or into an account it does
//! not own, changing nothing.

use ballast::errors::BallastError;
use ballast_keeper::accounts::PYTH_RECEIVER_ID;
use ballast_tests::*;
use mock_pyth_receiver::{MockError, PriceInput, Verification, ACCOUNT_LEN, RECEIVER_ID};
use solana_instruction::error::InstructionError;
use solana_instruction::{AccountMeta, Instruction};
use solana_transaction_error::TransactionError;

fn mock_so() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/deploy/mock_pyth_receiver.so")
}

fn write(authority: &Address, oracle: &Address, input: &PriceInput) -> Instruction {
    Instruction {
        program_id: RECEIVER_ID,
        accounts: vec![
            AccountMeta::new_readonly(*authority, true),
            AccountMeta::new(*oracle, false),
        ],
        data: input.encode(),
    }
}

fn price(feed_id: [u8; 32], usd: f64, verification: Verification) -> PriceInput {
    let p = (usd * 1e8) as i64;
    PriceInput {
        verification,
        feed_id,
        price: p,
        conf: 0,
        exponent: -8,
        publish_time: 0,
        ema_price: p,
        ema_conf: 0,
    }
}

fn mock_err(e: MockError) -> TransactionError {
    TransactionError::InstructionError(0, InstructionError::Custom(e as u32))
}

#[test]
fn mock_receiver_accounts_pass_ballast_oracle_checks_and_foreign_writes_are_refused() {
    let mut ctx = TestContext::new();
    assert_eq!(RECEIVER_ID, PYTH_RECEIVER_ID);
    ctx.chain
        .svm
        .add_program_from_file(RECEIVER_ID, mock_so())
        .expect("target/deploy/mock_pyth_receiver.so (make mock-pyth)");
    let l = ctx.lending(&TOKEN_PROGRAM_ID);
    // The collateral's oracle becomes a fresh account of the mock, written
    // by `auth`: from now on only the mock moves its price.
    let oracle = l.coll.keys.oracle;
    ctx.chain
        .set_raw_account(&oracle, RECEIVER_ID, vec![0; ACCOUNT_LEN])
        .unwrap();
    let auth = ctx.funded_user(1);
    let full = price(l.coll.feed_id, 20.0, Verification::Full);
    ctx.ok(
        "mock write",
        &[write(&auth.pubkey(), &oracle, &full)],
        &[&auth],
    );
    let data = ctx.chain.svm.get_account(&oracle).unwrap().data;
    let update = ballast::runtime::oracle_account::decode_bytes(&data).expect("a PriceUpdateV2");
    assert_eq!(update.write_authority, auth.pubkey());
    assert_eq!(update.price_message.price, 2_000_000_000);
    assert_eq!(
        update.price_message.publish_time,
        ctx.clock().unix_timestamp,
        "publish time 0 is the clock's now"
    );

    // Ballast prices a borrow with it (owner, layout, feed, freshness).
    ctx.borrow(&l.borrower, &l.debt, &l.ob, &l.b_debt, l.debt.units(100.0));

    // Another authority cannot write it; the account is unchanged.
    let intruder = ctx.funded_user(1);
    let before = ctx.snapshot(&[oracle]);
    let crash = price(l.coll.feed_id, 1.0, Verification::Full);
    let err = ctx.fails(
        "foreign write",
        &[write(&intruder.pubkey(), &oracle, &crash)],
        &[&intruder],
    );
    assert_eq!(err, mock_err(MockError::WrongAuthority));
    ctx.assert_unchanged("foreign write", &before);

    // Nor can it write an account it does not own (here a token account).
    let err = ctx.fails(
        "not owned",
        &[write(&auth.pubkey(), &l.b_debt, &full)],
        &[&auth],
    );
    assert_eq!(err, mock_err(MockError::WrongOwner));

    // A partially verified update it records is refused by Ballast.
    let partial = price(
        l.coll.feed_id,
        20.0,
        Verification::Partial { num_signatures: 3 },
    );
    ctx.ok(
        "mock partial write",
        &[write(&auth.pubkey(), &oracle, &partial)],
        &[&auth],
    );
    let health = ctx.health_accounts(&l.ob, &[&l.debt]);
    let ix = ix::borrow(
        &l.borrower.pubkey(),
        &l.debt.keys,
        &l.ob,
        &l.b_debt,
        1,
        health,
    );
    let err = ctx.fails("partial", &[ix], &[&l.borrower]);
    assert_ballast_err(&err, BallastError::OracleNotFullyVerified);
}
