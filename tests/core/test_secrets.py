"""The encrypted-secret scheme (DESIGN §1): AES-256-GCM checked against published vectors, a fresh
nonce per encryption, associated data binding table/row/column, key ids and rotation."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text

from tests.factories import make_user
from webapp.auth.models import User
from webapp.extensions import db
from webapp.secrets import DecryptionError, decrypt_field, encrypt_field
from webapp.secrets.crypto import NONCE_BYTES, TAG_BYTES, derive_key, key_id, seal, unseal

H = bytes.fromhex
K15 = "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308"
P15 = (
    "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
    "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255"
)
C15 = (
    "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
    "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad"
)

# McGrew & Viega, "The Galois/Counter Mode of Operation (GCM)", test cases 13-16 (256-bit keys),
# the same values NIST's CAVP AES-GCM set carries: (key, iv, plaintext, aad, ciphertext, tag).
VECTORS = {
    "case 13": ("00" * 32, "00" * 12, "", "", "", "530f8afbc74536b9a963b4f1c4cb738b"),
    "case 14": (
        "00" * 32,
        "00" * 12,
        "00" * 16,
        "",
        "cea7403d4d606b6e074ec5d3baf39d18",
        "d0d1c8a799996bf0265b98b5d48ab919",
    ),
    "case 15": (K15, "cafebabefacedbaddecaf888", P15, "", C15, "b094dac5d93471bdec1a502270e3cc6c"),
    "case 16": (
        K15,
        "cafebabefacedbaddecaf888",
        P15[:120],
        "feedfacedeadbeeffeedfacedeadbeefabaddad2",
        C15[:120],
        "76fc6ece0f4e1768cddf8853bb2d551b",
    ),
}


@pytest.mark.parametrize("name", sorted(VECTORS))
def test_seal_and_unseal_match_published_aes_256_gcm_vectors(name):
    key, iv, plain, aad, cipher, tag = VECTORS[name]
    ciphertext, got_tag = seal(H(key), H(iv), H(plain), H(aad))
    assert ciphertext.hex() == cipher
    assert got_tag.hex() == tag
    assert len(got_tag) == TAG_BYTES
    assert unseal(H(key), H(iv), H(cipher), H(tag), H(aad)) == H(plain)


def test_unseal_refuses_a_flipped_bit_in_ciphertext_tag_or_aad():
    from cryptography.exceptions import InvalidTag

    key, iv, _plain, aad, cipher, tag = VECTORS["case 16"]
    flipped = bytes([H(cipher)[0] ^ 1]) + H(cipher)[1:]
    for args in (
        (H(key), H(iv), flipped, H(tag), H(aad)),
        (H(key), H(iv), H(cipher), bytes([H(tag)[0] ^ 1]) + H(tag)[1:], H(aad)),
        (H(key), H(iv), H(cipher), H(tag), H(aad) + b"x"),
    ):
        with pytest.raises(InvalidTag):
            unseal(*args)


def test_each_encryption_uses_a_fresh_nonce_and_stores_iv_tag_and_key_id(ctx, app):
    user = make_user("vault@example.com")
    encrypt_field(user, "totp_secret", "JBSWY3DPEHPK3PXP")
    first = (user.totp_secret_ciphertext, user.totp_secret_iv, user.totp_secret_tag)
    encrypt_field(user, "totp_secret", "JBSWY3DPEHPK3PXP")
    second = (user.totp_secret_ciphertext, user.totp_secret_iv, user.totp_secret_tag)
    assert first[1] != second[1] and len(second[1]) == NONCE_BYTES
    assert first[0] != second[0] and first[2] != second[2]
    assert len(second[2]) == TAG_BYTES
    assert user.totp_secret_key_id == key_id(derive_key(app.config["ENCRYPTION_KEY"]))
    assert decrypt_field(user, "totp_secret") == "JBSWY3DPEHPK3PXP"


def test_nothing_is_stored_in_clear(ctx):
    user = make_user("clear@example.com")
    encrypt_field(user, "totp_secret", "PLAINTEXTSECRET1")
    db.session.commit()
    row = db.session.execute(text("SELECT * FROM users WHERE id = :id"), {"id": user.id}).mappings().one()
    raw = row["totp_secret_ciphertext"]
    assert raw is not None and bytes(raw) != b"PLAINTEXTSECRET1"
    for value in row.values():
        blob = bytes(value) if isinstance(value, bytes | memoryview) else str(value).encode()
        assert b"PLAINTEXTSECRET1" not in blob


def _copy_sealed(source, target, source_name="totp_secret", target_name="totp_secret"):
    for suffix in ("ciphertext", "iv", "tag", "key_id"):
        setattr(target, f"{target_name}_{suffix}", getattr(source, f"{source_name}_{suffix}"))


def test_ciphertext_copied_to_another_row_does_not_decrypt(ctx):
    alice, bob = make_user("alice@example.com"), make_user("bob@example.com")
    encrypt_field(alice, "totp_secret", "ALICESECRET")
    _copy_sealed(alice, bob)
    db.session.commit()
    db.session.expire_all()
    bob = db.session.get(User, bob.id)
    with pytest.raises(DecryptionError, match="does not authenticate"):
        decrypt_field(bob, "totp_secret")
    assert decrypt_field(db.session.get(User, alice.id), "totp_secret") == "ALICESECRET"


def test_ciphertext_copied_to_another_column_or_table_does_not_decrypt(ctx):
    """The associated data names the column and the table: the same row id elsewhere fails too."""
    from webapp.secrets.fields import _aad

    user = make_user("columns@example.com")
    encrypt_field(user, "totp_secret", "COLUMNSECRET")
    assert _aad(user, "totp_secret") == f"users:{user.id}:totp_secret".encode()

    class Other:  # the same id and column in another table
        __tablename__ = "integration_connections"
        id = user.id

    other = Other()
    _copy_sealed(user, other)
    with pytest.raises(DecryptionError):
        decrypt_field(other, "totp_secret")

    class SameRowOtherColumn:
        __tablename__ = "users"
        id = user.id

    moved = SameRowOtherColumn()
    _copy_sealed(user, moved, target_name="refresh_token")
    with pytest.raises(DecryptionError):
        decrypt_field(moved, "refresh_token")


@pytest.fixture
def keys(app):
    """Swap the app's keys for one test, then put them back."""
    saved = app.config["ENCRYPTION_KEY"], list(app.config["ENCRYPTION_OLD_KEYS"])

    def use(current: str, old: list[str] | None = None):
        app.config["ENCRYPTION_KEY"] = current
        app.config["ENCRYPTION_OLD_KEYS"] = list(old or [])
        app.extensions.pop("tessera.keyring", None)

    yield use
    use(saved[0], saved[1])


KEY_A = "first-master-key-0123456789abcdefghijklmnop"
KEY_B = "second-master-key-0123456789abcdefghijklmnop"


def test_flask_secrets_rotate_reencrypts_every_secret_under_the_new_key(app, ctx, keys):
    keys(KEY_A)
    users = [make_user(f"rot{i}@example.com") for i in range(3)]
    for i, user in enumerate(users):
        encrypt_field(user, "totp_secret", f"SECRET{i}")
    untouched = make_user("nosecret@example.com")
    db.session.commit()
    old_id, new_id = key_id(derive_key(KEY_A)), key_id(derive_key(KEY_B))

    keys(KEY_B, [KEY_A])
    result = app.test_cli_runner().invoke(args=["secrets", "rotate"])
    assert result.exit_code == 0, result.output
    assert "re-encrypted 3 secret(s)" in result.output

    db.session.expire_all()
    raw = dict(db.session.execute(select(User.email, User.totp_secret_key_id)).all())
    assert {raw[u.email] for u in users} == {new_id}
    assert raw[untouched.email] is None
    assert old_id != new_id

    keys(KEY_B)  # the old key is gone: everything still reads
    for i, user in enumerate(users):
        assert decrypt_field(db.session.get(User, user.id), "totp_secret") == f"SECRET{i}"

    again = app.test_cli_runner().invoke(args=["secrets", "rotate"])
    assert again.exit_code == 0 and "re-encrypted 0 secret(s)" in again.output

    from webapp.audit.models import AuditEntry

    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "secrets.rotated"))
    assert entry.details == {"rows": {"users": 3}}


def test_a_secret_sealed_with_an_unknown_key_fails_clearly(app, ctx, keys):
    keys(KEY_A)
    user = make_user("lost@example.com")
    encrypt_field(user, "totp_secret", "LOSTSECRET")
    db.session.commit()
    keys(KEY_B)  # the old key was not kept in ENCRYPTION_OLD_KEYS
    db.session.expire_all()
    user = db.session.get(User, user.id)
    with pytest.raises(DecryptionError, match="not configured") as caught:
        decrypt_field(user, "totp_secret")
    assert "LOSTSECRET" not in str(caught.value)

    result = app.test_cli_runner().invoke(args=["secrets", "rotate"])
    assert result.exit_code != 0
    assert "ENCRYPTION_OLD_KEYS" in result.output and "users" in result.output
