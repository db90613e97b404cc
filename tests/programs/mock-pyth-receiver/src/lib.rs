//! # mock-pyth-receiver (test only)
//!
//! A stand-in for the Pyth receiver program (`rec5EKMG...`) for the
//! end-to-end tests on `solana-test-validator`, where the real receiver and
//! Wormhole's guardian signatures are not available offline. Loaded at the
//! receiver's id (`--bpf-program rec5EKMG... mock_pyth_receiver.so`), it
//! owns the accounts it writes, so they pass Ballast's owner check exactly
//! as the real ones do, and it writes them in the real `PriceUpdateV2`
//! layout (Anchor discriminator, write authority, verification level, price
//! message, posted slot), which Ballast's decoder reads.
//!
//! It is never part of the product: nothing in `programs/` or `keeper/`
//! depends on it, and a real cluster has the real receiver at this id.
//!
//! One instruction, [`WRITE`]: accounts `[authority (signer), price_update
//! (writable, owned by this program, at least` [`ACCOUNT_LEN`] `bytes)]`,
//! data [`PriceInput::encode`]. The first write to a zeroed account makes the
//! signer its write authority (the test creates the account with
//! `system_program::create_account` and writes it in the same transaction);
//! later writes must be signed by that authority. A `publish_time` of 0
//! means the cluster's `Clock::unix_timestamp`, so that a test can keep a
//! price fresh on the validator's clock without reading it first. The posted
//! slot is the current slot; the previous publish time is the one the
//! account held (or `publish_time - 1` on the first write).
//!
//! Errors (`ProgramError::Custom`): see [`MockError`].
#![deny(missing_docs)]

#[cfg(target_arch = "bpf")]
use solana_compiler_builtins as _;

use solana_account_info::AccountInfo;
use solana_address::Address;
use solana_program_error::{ProgramError, ProgramResult};

/// The real Pyth receiver's program id, where the tests load this program.
pub const RECEIVER_ID: Address =
    Address::from_str_const("rec5EKMGg6MxZYaMdyBfgwp4d5rB9T1VQH5pJv5LtFJ");

/// Anchor discriminator of `PriceUpdateV2`: the first 8 bytes of
/// `sha256("account:PriceUpdateV2")` (a host test checks it against the
/// Pyth SDK's).
pub const DISCRIMINATOR: [u8; 8] = [34, 241, 35, 99, 157, 126, 244, 205];

/// Size of a `PriceUpdateV2` account, bytes (the SDK's `PriceUpdateV2::LEN`:
/// room for the longer, `Partial`, verification level).
pub const ACCOUNT_LEN: usize = 8 + 32 + 2 + 32 + 8 + 8 + 4 + 8 + 8 + 8 + 8 + 8;

/// Tag of the write instruction (first data byte).
pub const WRITE: u8 = 0;

/// Why a write was refused (`ProgramError::Custom(code)`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum MockError {
    /// Instruction data is not a [`WRITE`] of [`PriceInput::LEN`] bytes.
    BadInstruction = 1,
    /// Fewer than two accounts.
    MissingAccounts = 2,
    /// The authority did not sign.
    AuthorityNotSigner = 3,
    /// The price account is not owned by this program.
    WrongOwner = 4,
    /// The price account is shorter than [`ACCOUNT_LEN`].
    AccountTooSmall = 5,
    /// The signer is not the account's write authority.
    WrongAuthority = 6,
    /// The price account is not writable.
    NotWritable = 7,
    /// The account holds something other than a `PriceUpdateV2`.
    NotAPriceUpdate = 8,
}

impl From<MockError> for ProgramError {
    fn from(e: MockError) -> Self {
        ProgramError::Custom(e as u32)
    }
}

/// The verification level recorded in the account (Ballast accepts only
/// `Full`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verification {
    /// Verified by some guardian signatures only.
    Partial {
        /// Number of signatures.
        num_signatures: u8,
    },
    /// Fully verified.
    Full,
}

/// What a write sets: Pyth's price message. Prices are integers scaled by
/// `10^exponent` USD.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PriceInput {
    /// Verification level.
    pub verification: Verification,
    /// Feed id (32 bytes).
    pub feed_id: [u8; 32],
    /// Spot price, units of `10^exponent`.
    pub price: i64,
    /// Confidence, same units.
    pub conf: u64,
    /// Decimal exponent.
    pub exponent: i32,
    /// Publish time, unix seconds; 0: the cluster clock's now.
    pub publish_time: i64,
    /// EMA price, same units as `price`.
    pub ema_price: i64,
    /// EMA confidence, same units.
    pub ema_conf: u64,
}

impl PriceInput {
    /// Length of the encoded instruction data, tag included.
    pub const LEN: usize = 1 + 2 + 32 + 8 + 8 + 4 + 8 + 8 + 8;

    /// The instruction data: [`WRITE`], the level (tag 0 `Partial` + count,
    /// or 1 `Full` + 0), then the fields in declaration order, little endian.
    pub fn encode(&self) -> Vec<u8> {
        let mut d = Vec::with_capacity(Self::LEN);
        d.push(WRITE);
        match self.verification {
            Verification::Partial { num_signatures } => d.extend([0, num_signatures]),
            Verification::Full => d.extend([1, 0]),
        }
        d.extend(self.feed_id);
        d.extend(self.price.to_le_bytes());
        d.extend(self.conf.to_le_bytes());
        d.extend(self.exponent.to_le_bytes());
        d.extend(self.publish_time.to_le_bytes());
        d.extend(self.ema_price.to_le_bytes());
        d.extend(self.ema_conf.to_le_bytes());
        d
    }

    /// Decodes [`PriceInput::encode`]'s output; `None` on a wrong tag,
    /// level or length.
    pub fn decode(d: &[u8]) -> Option<Self> {
        if d.len() != Self::LEN || d[0] != WRITE {
            return None;
        }
        let verification = match d[1] {
            0 => Verification::Partial {
                num_signatures: d[2],
            },
            1 => Verification::Full,
            _ => return None,
        };
        let i64_at = |at: usize| i64::from_le_bytes(d[at..at + 8].try_into().unwrap());
        let u64_at = |at: usize| u64::from_le_bytes(d[at..at + 8].try_into().unwrap());
        Some(Self {
            verification,
            feed_id: d[3..35].try_into().unwrap(),
            price: i64_at(35),
            conf: u64_at(43),
            exponent: i32::from_le_bytes(d[51..55].try_into().unwrap()),
            publish_time: i64_at(55),
            ema_price: i64_at(63),
            ema_conf: u64_at(71),
        })
    }
}

/// Offset of the price message in an account whose level tag is `tag`.
fn message_offset(tag: u8) -> Option<usize> {
    match tag {
        0 => Some(42),
        1 => Some(41),
        _ => None,
    }
}

/// Writes `input` into `data` (a `PriceUpdateV2` account's bytes) for
/// `authority` at `(now, slot)`, checking the write authority of an
/// initialised account. The account logic of [`process_instruction`], on
/// plain bytes.
pub fn write_price(
    data: &mut [u8],
    authority: &Address,
    input: &PriceInput,
    now: i64,
    slot: u64,
) -> Result<(), MockError> {
    if data.len() < ACCOUNT_LEN {
        return Err(MockError::AccountTooSmall);
    }
    let fresh = data[..8] == [0; 8];
    let publish_time = if input.publish_time == 0 {
        now
    } else {
        input.publish_time
    };
    let prev_publish_time = if fresh {
        publish_time - 1
    } else {
        if data[..8] != DISCRIMINATOR {
            return Err(MockError::NotAPriceUpdate);
        }
        if data[8..40] != authority.to_bytes() {
            return Err(MockError::WrongAuthority);
        }
        let m = message_offset(data[40]).ok_or(MockError::NotAPriceUpdate)?;
        i64::from_le_bytes(data[m + 52..m + 60].try_into().unwrap())
    };
    data[..ACCOUNT_LEN].fill(0);
    data[..8].copy_from_slice(&DISCRIMINATOR);
    data[8..40].copy_from_slice(&authority.to_bytes());
    let m = match input.verification {
        Verification::Partial { num_signatures } => {
            data[40] = 0;
            data[41] = num_signatures;
            42
        }
        Verification::Full => {
            data[40] = 1;
            41
        }
    };
    let mut at = m;
    let mut put = |bytes: &[u8]| {
        data[at..at + bytes.len()].copy_from_slice(bytes);
        at += bytes.len();
    };
    put(&input.feed_id);
    put(&input.price.to_le_bytes());
    put(&input.conf.to_le_bytes());
    put(&input.exponent.to_le_bytes());
    put(&publish_time.to_le_bytes());
    put(&prev_publish_time.to_le_bytes());
    put(&input.ema_price.to_le_bytes());
    put(&input.ema_conf.to_le_bytes());
    put(&slot.to_le_bytes());
    Ok(())
}

/// The program's entry: one [`WRITE`] (see the crate docs).
pub fn process_instruction(
    program_id: &Address,
    accounts: &[AccountInfo],
    data: &[u8],
) -> ProgramResult {
    let input = PriceInput::decode(data).ok_or(MockError::BadInstruction)?;
    let [authority, price_update, ..] = accounts else {
        return Err(MockError::MissingAccounts.into());
    };
    if !authority.is_signer {
        return Err(MockError::AuthorityNotSigner.into());
    }
    if price_update.owner != program_id {
        return Err(MockError::WrongOwner.into());
    }
    if !price_update.is_writable {
        return Err(MockError::NotWritable.into());
    }
    let clock = clock()?;
    let mut bytes = price_update.try_borrow_mut_data()?;
    write_price(
        &mut bytes,
        authority.key,
        &input,
        clock.unix_timestamp,
        clock.slot,
    )?;
    Ok(())
}

fn clock() -> Result<solana_clock::Clock, ProgramError> {
    use solana_sysvar::Sysvar;
    solana_clock::Clock::get()
}

#[cfg(not(feature = "no-entrypoint"))]
solana_program_entrypoint::entrypoint!(process_instruction);

#[cfg(test)]
mod tests {
    use super::*;
    use anchor_lang::{AccountDeserialize, Discriminator};
    use pyth_solana_receiver_sdk::price_update::{PriceUpdateV2, VerificationLevel};

    fn input(price: i64, level: Verification) -> PriceInput {
        PriceInput {
            verification: level,
            feed_id: [9; 32],
            price,
            conf: 12,
            exponent: -8,
            publish_time: 1_700_000_000,
            ema_price: price - 5,
            ema_conf: 13,
        }
    }

    #[test]
    fn constants_match_the_pyth_sdk() {
        assert_eq!(DISCRIMINATOR, PriceUpdateV2::DISCRIMINATOR);
        assert_eq!(ACCOUNT_LEN, PriceUpdateV2::LEN);
        assert_eq!(
            RECEIVER_ID.to_bytes(),
            pyth_solana_receiver_sdk::ID.to_bytes()
        );
    }

    #[test]
    fn written_accounts_decode_with_the_sdk_and_keep_their_authority() {
        let auth = Address::new_from_array([4; 32]);
        let mut data = vec![0u8; ACCOUNT_LEN];
        write_price(&mut data, &auth, &input(2_000, Verification::Full), 0, 77).unwrap();
        let u = PriceUpdateV2::try_deserialize(&mut data.as_slice()).unwrap();
        assert_eq!(u.write_authority.to_bytes(), auth.to_bytes());
        assert_eq!(u.verification_level, VerificationLevel::Full);
        assert_eq!(u.price_message.price, 2_000);
        assert_eq!(u.price_message.ema_price, 1_995);
        assert_eq!(u.price_message.conf, 12);
        assert_eq!(u.price_message.ema_conf, 13);
        assert_eq!(u.price_message.exponent, -8);
        assert_eq!(u.price_message.publish_time, 1_700_000_000);
        assert_eq!(u.price_message.prev_publish_time, 1_699_999_999);
        assert_eq!(u.posted_slot, 77);

        // A second write by the authority, publish time from the clock.
        let mut next = input(1_000, Verification::Partial { num_signatures: 3 });
        next.publish_time = 0;
        write_price(&mut data, &auth, &next, 1_700_000_600, 78).unwrap();
        let u = PriceUpdateV2::try_deserialize(&mut data.as_slice()).unwrap();
        assert_eq!(
            u.verification_level,
            VerificationLevel::Partial { num_signatures: 3 }
        );
        assert_eq!(u.price_message.price, 1_000);
        assert_eq!(u.price_message.publish_time, 1_700_000_600);
        assert_eq!(u.price_message.prev_publish_time, 1_700_000_000);
        // And back to Full: the shorter level leaves no stale byte behind.
        write_price(&mut data, &auth, &input(3_000, Verification::Full), 0, 79).unwrap();
        let u = PriceUpdateV2::try_deserialize(&mut data.as_slice()).unwrap();
        assert_eq!(u.price_message.price, 3_000);
        assert_eq!(u.price_message.prev_publish_time, 1_700_000_600);
    }

    #[test]
    fn refuses_another_authority_short_accounts_and_foreign_data() {
        let auth = Address::new_from_array([4; 32]);
        let mut data = vec![0u8; ACCOUNT_LEN];
        write_price(&mut data, &auth, &input(2_000, Verification::Full), 0, 1).unwrap();
        let before = data.clone();
        let other = Address::new_from_array([5; 32]);
        assert_eq!(
            write_price(&mut data, &other, &input(1, Verification::Full), 0, 2),
            Err(MockError::WrongAuthority)
        );
        assert_eq!(data, before, "a refused write changes nothing");
        let mut short = vec![0u8; ACCOUNT_LEN - 1];
        assert_eq!(
            write_price(&mut short, &auth, &input(1, Verification::Full), 0, 2),
            Err(MockError::AccountTooSmall)
        );
        let mut foreign = vec![1u8; ACCOUNT_LEN];
        assert_eq!(
            write_price(&mut foreign, &auth, &input(1, Verification::Full), 0, 2),
            Err(MockError::NotAPriceUpdate)
        );
    }

    #[test]
    fn instruction_data_round_trips_and_bad_data_is_refused() {
        for level in [
            Verification::Full,
            Verification::Partial { num_signatures: 7 },
        ] {
            let i = input(-3, level);
            let d = i.encode();
            assert_eq!(d.len(), PriceInput::LEN);
            assert_eq!(PriceInput::decode(&d), Some(i));
        }
        let d = input(1, Verification::Full).encode();
        assert_eq!(PriceInput::decode(&d[..d.len() - 1]), None);
        let mut wrong_tag = d.clone();
        wrong_tag[0] = 1;
        assert_eq!(PriceInput::decode(&wrong_tag), None);
        let mut wrong_level = d;
        wrong_level[1] = 2;
        assert_eq!(PriceInput::decode(&wrong_level), None);
    }
}
