"""Secret columns on models, the keyring from configuration, and rotation."""

from __future__ import annotations

from typing import Any, ClassVar

from cryptography.exceptions import InvalidTag
from flask import current_app
from sqlalchemy import LargeBinary, String, select
from sqlalchemy.orm import mapped_column

from webapp.extensions import Model, db
from webapp.secrets.crypto import derive_key, key_id, new_nonce, seal, unseal


class DecryptionError(RuntimeError):
    """The secret cannot be read (unknown key, or tampered ciphertext). Never carries the value."""


class EncryptedColumns:
    """What the type checker knows of a mixin ``encrypted_fields`` builds: its columns are named at run
    time, so code reaches them through ``encrypt_field``, ``decrypt_field``, ``has_field`` and
    ``clear_field``. A model spells its base ``if TYPE_CHECKING: X = EncryptedColumns`` ``else: X =
    encrypted_fields(...)``, since a base class made by a call is beyond the checker."""

    __encrypted_fields__: ClassVar[tuple[str, ...]]


def encrypted_fields(*names: str) -> type:
    """A mixin with ``<name>_ciphertext``, ``_iv``, ``_tag`` and ``_key_id`` columns for each name."""
    attrs: dict = {"__encrypted_fields__": names}
    for name in names:
        for suffix in ("ciphertext", "iv", "tag"):
            attrs[f"{name}_{suffix}"] = mapped_column(LargeBinary, nullable=True)
        attrs[f"{name}_key_id"] = mapped_column(String(16), nullable=True)
    return type("Encrypted_" + "_".join(names), (), attrs)


def _keyring() -> tuple[str, dict[str, bytes]]:
    cache = current_app.extensions.get("tessera.keyring")
    if cache is None:
        current = derive_key(current_app.config["ENCRYPTION_KEY"])
        keys = {key_id(current): current}
        for old in current_app.config.get("ENCRYPTION_OLD_KEYS", []):
            derived = derive_key(old)
            keys.setdefault(key_id(derived), derived)
        cache = current_app.extensions["tessera.keyring"] = (key_id(current), keys)
    return cache


def _aad(obj: Any, name: str) -> bytes:
    if obj.id is None:
        db.session.flush()  # the row id is part of the associated data
    return f"{obj.__tablename__}:{obj.id}:{name}".encode()


def encrypt_field(obj: Any, name: str, plaintext: str) -> None:
    current_id, keys = _keyring()
    nonce = new_nonce()
    ciphertext, tag = seal(keys[current_id], nonce, plaintext.encode(), _aad(obj, name))
    setattr(obj, f"{name}_ciphertext", ciphertext)
    setattr(obj, f"{name}_iv", nonce)
    setattr(obj, f"{name}_tag", tag)
    setattr(obj, f"{name}_key_id", current_id)


def has_field(obj: Any, name: str) -> bool:
    return getattr(obj, f"{name}_ciphertext") is not None


def decrypt_field(obj: Any, name: str) -> str | None:
    if not has_field(obj, name):
        return None
    _, keys = _keyring()
    key = keys.get(getattr(obj, f"{name}_key_id"))
    if key is None:
        raise DecryptionError(
            f"{obj.__tablename__}.{name} of row {obj.id}: sealed with key {getattr(obj, f'{name}_key_id')!r}, "
            "which is not configured"
        )
    try:
        plain = unseal(
            key,
            getattr(obj, f"{name}_iv"),
            getattr(obj, f"{name}_ciphertext"),
            getattr(obj, f"{name}_tag"),
            _aad(obj, name),
        )
    except InvalidTag:
        raise DecryptionError(f"{obj.__tablename__}.{name} of row {obj.id}: ciphertext does not authenticate") from None
    return plain.decode()


def decrypt_required(obj: Any, name: str) -> str:
    """A secret the row must hold (the caller checked ``has_field``, or it is always set)."""
    plain = decrypt_field(obj, name)
    if plain is None:
        raise DecryptionError(f"{obj.__tablename__}.{name} of row {obj.id}: no secret stored")
    return plain


def clear_field(obj: Any, name: str) -> None:
    for suffix in ("ciphertext", "iv", "tag", "key_id"):
        setattr(obj, f"{name}_{suffix}", None)


def encrypted_models() -> list[Any]:
    """Every mapped class with secret columns (classes ``encrypted_fields`` built the columns of)."""
    return [mapper.class_ for mapper in Model.registry.mappers if getattr(mapper.class_, "__encrypted_fields__", None)]


def rotate_all(batch_size: int = 500) -> dict[str, int]:
    """Re-encrypt every stored secret under the current key. Returns rows changed per table."""
    current_id, _ = _keyring()
    changed: dict[str, int] = {}
    for model in encrypted_models():
        for name in model.__encrypted_fields__:
            key_col = getattr(model, f"{name}_key_id")
            stmt = select(model).where(key_col.is_not(None), key_col != current_id).limit(batch_size)
            while rows := list(db.session.scalars(stmt)):
                for row in rows:
                    plain = decrypt_field(row, name)
                    if plain is None:  # a key id without its ciphertext: a half-cleared field, never written
                        raise DecryptionError(
                            f"{model.__tablename__}.{name} of row {row.id}: key id without ciphertext"
                        )
                    encrypt_field(row, name, plain)
                db.session.flush()
                changed[model.__tablename__] = changed.get(model.__tablename__, 0) + len(rows)
    return changed
