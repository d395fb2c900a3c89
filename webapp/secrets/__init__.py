"""Encrypted secrets: every stored token and credential goes through ``encrypt_field``.

Each secret column is four columns (ciphertext, iv, tag, key id) and its associated data binds
the ciphertext to its table, row and column, so a value copied to another row will not decrypt.
"""

from webapp.secrets.fields import (
    DecryptionError,
    EncryptedColumns,
    clear_field,
    decrypt_field,
    decrypt_required,
    encrypt_field,
    encrypted_fields,
    has_field,
    rotate_all,
)

__all__ = [
    "DecryptionError",
    "EncryptedColumns",
    "clear_field",
    "decrypt_field",
    "decrypt_required",
    "encrypt_field",
    "encrypted_fields",
    "has_field",
    "rotate_all",
]
