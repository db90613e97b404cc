//! A reserve's oracle must be the Pyth push oracle's price-feed account of
//! its feed id (issue 13). A `PriceUpdateV2` account belongs to its write
//! authority, who may post into it any verified price (an old one within
//! the reserve's max age included) and close it: a reserve configured with
//! an account its lister (or an attacker) wrote would price every
//! obligation at that writer's choice. `init_reserve` and
//! `update_reserve_config` accept only the PDA `[0u16 LE, feed id]` of the
//! push oracle program, which only the push oracle can write; everything
//! else fails with `OracleNotPushFeed` and changes nothing.

use ballast::errors::BallastError;
use ballast_tests::*;

/// A fresh, fully verified price of `feed_id` at `address`, owned by the
/// receiver: what anyone can post with the real receiver into an account
/// of their own.
fn write_price(ctx: &mut TestContext, address: &Address, feed_id: [u8; 32]) {
    let now = ctx.clock().unix_timestamp;
    ctx.set_pyth_price(address, &PythPrice::usd(feed_id, 1.0, now))
        .expect("write price account");
}

fn push_feed_in_shard(shard: u16, feed_id: &[u8; 32]) -> Address {
    Address::find_program_address(
        &[&shard.to_le_bytes(), feed_id],
        &ballast::state::PYTH_PUSH_ORACLE_PROGRAM_ID,
    )
    .0
}

#[test]
fn init_reserve_refuses_a_price_account_that_is_not_the_push_feed() {
    let mut ctx = TestContext::new();
    let m = ctx.setup_market();
    let mint = ctx.create_mint(&TOKEN_PROGRAM_ID, 6).unwrap();
    let feed_id = mint.to_bytes();
    let attacker_account = Keypair::new().pubkey();
    let other_feed = [0x77; 32];
    for (label, oracle) in [
        ("an account its writer owns", attacker_account),
        ("the push feed of shard 1", push_feed_in_shard(1, &feed_id)),
        (
            "another feed's push account",
            push_feed_address(&other_feed),
        ),
    ] {
        // Owned by the receiver, fully verified, fresh, of the right feed:
        // everything but the address passes.
        write_price(&mut ctx, &oracle, feed_id);
        let keys = ReserveKeys::derive(&m.market, &mint, &TOKEN_PROGRAM_ID, &oracle);
        let before = ctx.snapshot(&[
            m.market,
            keys.reserve,
            keys.liquidity_vault,
            keys.insurance_vault,
        ]);
        let ix = ix::init_reserve(&m.admin.pubkey(), &keys, test_config(feed_id));
        let err = ctx.fails(label, &[ix], &[&m.admin]);
        check(
            label,
            &err,
            Expect::Ballast(BallastError::OracleNotPushFeed),
        );
        ctx.assert_unchanged(label, &before);
        assert!(
            ctx.svm.get_account(&keys.reserve).is_none(),
            "[{label}] no reserve"
        );
    }
    // The push oracle's account of the feed (shard 0) is accepted.
    let oracle = push_feed_address(&feed_id);
    assert_eq!(oracle, push_feed_in_shard(0, &feed_id));
    write_price(&mut ctx, &oracle, feed_id);
    let keys = ReserveKeys::derive(&m.market, &mint, &TOKEN_PROGRAM_ID, &oracle);
    ctx.ok(
        "init_reserve on the push feed",
        &[ix::init_reserve(
            &m.admin.pubkey(),
            &keys,
            test_config(feed_id),
        )],
        &[&m.admin],
    );
    let r = ctx
        .chain
        .zero_copy::<ballast::state::Reserve>(&keys.reserve)
        .unwrap();
    assert_eq!(r.oracle, oracle);
}

#[test]
fn update_reserve_config_refuses_to_move_a_reserve_to_an_attacker_written_account() {
    let mut ctx = TestContext::new();
    let m = ctx.setup_market();
    let r = ctx.add_reserve(&m, &TOKEN_PROGRAM_ID, 6, 1.0, test_config([0; 32]));
    assert_eq!(
        r.keys.oracle,
        push_feed_address(&r.feed_id),
        "the harness lists on the push feed"
    );
    let config = ctx.reserve(&r).config;
    let attacker_account = Keypair::new().pubkey();
    write_price(&mut ctx, &attacker_account, r.feed_id);
    let moved = ReserveKeys {
        oracle: attacker_account,
        ..r.keys
    };
    let before = ctx.snapshot(&[m.market, r.keys.reserve]);
    let ix = ix::update_reserve_config(&m.admin.pubkey(), &moved, config);
    let err = ctx.fails("attacker-written oracle", &[ix], &[&m.admin]);
    check(
        "attacker-written oracle",
        &err,
        Expect::Ballast(BallastError::OracleNotPushFeed),
    );
    ctx.assert_unchanged("attacker-written oracle", &before);
    assert_eq!(ctx.reserve(&r).oracle, r.keys.oracle);

    // A new feed id must come with that feed's push account.
    let mut new_feed = config;
    new_feed.oracle_feed_id = [0x42; 32];
    write_price(&mut ctx, &attacker_account, new_feed.oracle_feed_id);
    let ix = ix::update_reserve_config(&m.admin.pubkey(), &moved, new_feed);
    let err = ctx.fails("new feed, attacker account", &[ix], &[&m.admin]);
    check(
        "new feed, attacker account",
        &err,
        Expect::Ballast(BallastError::OracleNotPushFeed),
    );
    let feed_account = push_feed_address(&new_feed.oracle_feed_id);
    write_price(&mut ctx, &feed_account, new_feed.oracle_feed_id);
    let ix = ix::update_reserve_config(
        &m.admin.pubkey(),
        &ReserveKeys {
            oracle: feed_account,
            ..r.keys
        },
        new_feed,
    );
    ctx.ok("new feed on its push account", &[ix], &[&m.admin]);
    assert_eq!(ctx.reserve(&r).oracle, feed_account);
}
