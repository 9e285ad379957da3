"""Crypto-shredding of participants' personal data: sealed fields, per-person keys, blind index.

Every personal field of ``participants`` (name, name key, e-mail, phone, organisation) is
stored sealed with AES-256-GCM under a key of that person alone; the person's key is stored in
``person_keys`` wrapped (AES-GCM again) by the installation key (``PERSONAL_DATA_KEY``, in
development ``<data dir>/secrets/personal-data.key``). Erasing a person deletes their key row:
every sealed value of theirs, wherever a copy went (the database's pages and WAL, a backup, a
replica), is from then on ciphertext nobody can open, while the pseudonymous id and the
categories the reports count stay as they were.

Duplicate matching needs equality on the normalised e-mail, phone and name without opening
every row: those go through a *blind index*, an HMAC-SHA256 keyed by a key derived from the
installation key, so the index reveals equality to the holder of that key only and says
nothing once the person's row has its index cleared. Searching by parts of a name cannot use an
index of whole values; it opens the rows of the caller's region and filters them here (a
region's people are a few thousand rows at most).

Each sealed value binds the person's id and the field's name as associated data, so a value
copied into another row or another column does not open. The keyring is installed once per
process at start-up (:func:`install`): one process is one registration installation, and the
adapters that read and write people reach it through :func:`keyring`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import uuid
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy.engine import Connection

from trainops_registration.adapters.tables import person_keys
from trainops_registration.domain.records import Person

PERSONAL_FIELDS = ("full_name", "name_key", "email", "phone", "organisation")
"""The columns of ``participants`` stored sealed."""

BLIND_INDEXED = {"email": "email_index", "phone": "phone_index", "name_key": "name_index"}
"""Sealed fields that duplicate matching compares for equality, and their blind-index column."""

CLEARED: dict[str, str | None] = {
    "full_name": "",
    "name_key": "",
    "email": None,
    "phone": None,
    "organisation": None,
    "email_index": None,
    "phone_index": None,
    "name_index": None,
}
"""The personal columns of a row that holds no personal data any more (merged away, erased)."""

_SEALED_PREFIX = "s1."
_NONCE_BYTES = 12


class PersonalDataKeyMissing(RuntimeError):
    """The keyring was used before the service installed it (a wiring mistake, not input)."""


class Keyring:
    """The installation's keys: the wrapping key of person keys and the blind-index key, both
    derived (HKDF-SHA256, distinct labels) from the one installation secret."""

    __slots__ = ("_index", "_wrap")

    def __init__(self, secret: str) -> None:
        material = secret.strip().encode("utf-8")
        if len(material) < 32:
            raise ValueError("the personal data key must have at least 32 characters")
        self._wrap = AESGCM(_derive(material, b"trainops registration person-key wrap"))
        self._index = _derive(material, b"trainops registration blind index")

    def __repr__(self) -> str:
        return "Keyring(***)"

    def wrap(self, participant_id: uuid.UUID, person_key: bytes) -> bytes:
        nonce = os.urandom(_NONCE_BYTES)
        return nonce + self._wrap.encrypt(nonce, person_key, participant_id.bytes)

    def unwrap(self, participant_id: uuid.UUID, wrapped: bytes) -> bytes:
        nonce, sealed = wrapped[:_NONCE_BYTES], wrapped[_NONCE_BYTES:]
        return self._wrap.decrypt(nonce, sealed, participant_id.bytes)

    def blind(self, field: str, value: str | None) -> str | None:
        """The blind-index value of a normalised ``value`` of ``field`` (``None`` for none)."""
        if value is None or value == "":
            return None
        mac = hmac.new(self._index, f"{field}\x00{value}".encode(), hashlib.sha256)
        return mac.hexdigest()


def _derive(material: bytes, label: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=label).derive(material)


_installed: Keyring | None = None


def install(secret: str) -> Keyring:
    """Make ``secret`` this process's personal data key (the service does it at start-up)."""
    global _installed
    _installed = Keyring(secret)
    return _installed


def keyring() -> Keyring:
    if _installed is None:
        raise PersonalDataKeyMissing(
            "registration's personal data key is not installed: build the service with "
            "build_spec(settings) (it reads PERSONAL_DATA_KEY)"
        )
    return _installed


class PersonCipher:
    """Seals and opens the fields of one person with that person's own key."""

    __slots__ = ("_aead", "key", "participant_id")

    def __init__(self, participant_id: uuid.UUID, key: bytes) -> None:
        self.participant_id = participant_id
        self.key = key
        self._aead = AESGCM(key)

    def __repr__(self) -> str:
        return f"PersonCipher({self.participant_id}, ***)"

    def _aad(self, field: str) -> bytes:
        return self.participant_id.bytes + field.encode("ascii")

    def seal(self, field: str, value: str | None) -> str | None:
        if value is None:
            return None
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, value.encode("utf-8"), self._aad(field))
        return _SEALED_PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode("ascii")

    def open(self, field: str, stored: str | None) -> str | None:
        if stored is None or not stored.startswith(_SEALED_PREFIX):
            # ``None`` or the empty value of a merged-away or erased row: nothing held.
            return None
        raw = base64.urlsafe_b64decode(stored[len(_SEALED_PREFIX) :])
        nonce, sealed = raw[:_NONCE_BYTES], raw[_NONCE_BYTES:]
        try:
            return self._aead.decrypt(nonce, sealed, self._aad(field)).decode("utf-8")
        except InvalidTag:
            raise ValueError(
                f"participant {self.participant_id}: stored {field} does not open with their key"
            ) from None


def _text_field(column: str, row_id: uuid.UUID) -> str:
    return f"{column}:{row_id}"


def seal_text(cipher: PersonCipher | None, column: str, row_id: uuid.UUID, value: str) -> str:
    """Staff's free text about a person (a duplicate flag's note, a merge's reason), sealed
    with that person's key and bound to its row, since such text may well name them: erasing
    the person makes it unreadable with the rest. Of a person whose key is gone nothing is to
    be kept, so the text is then stored empty."""
    if cipher is None:
        return ""
    sealed = cipher.seal(_text_field(column, row_id), value)
    assert sealed is not None  # a str seals to a str
    return sealed


def open_text(cipher: PersonCipher | None, column: str, row_id: uuid.UUID, stored: str) -> str:
    """The text :func:`seal_text` sealed; empty once the person's key is gone."""
    if cipher is None:
        return ""
    return cipher.open(_text_field(column, row_id), stored) or ""


def is_sealed(stored: str | None) -> bool:
    return stored is not None and stored.startswith(_SEALED_PREFIX)


def sealed_values(cipher: PersonCipher, values: Mapping[str, str | None]) -> dict[str, object]:
    """Column values for ``values`` (plaintext personal fields): each sealed, and the
    blind-index column of each matched field beside it."""
    ring = keyring()
    out: dict[str, object] = {}
    for field, value in values.items():
        out[field] = cipher.seal(field, value)
        if field in BLIND_INDEXED:
            out[BLIND_INDEXED[field]] = ring.blind(field, value)
    return out


_pk = person_keys.c


def new_person_key() -> bytes:
    return AESGCM.generate_key(bit_length=256)


def store_person_key(conn: Connection, cipher: PersonCipher, now: datetime) -> None:
    """Keep ``cipher``'s key, wrapped, in this transaction."""
    conn.execute(
        person_keys.insert(),
        {
            "participant_id": cipher.participant_id,
            "wrapped_key": keyring().wrap(cipher.participant_id, cipher.key),
            "created_at": now,
        },
    )


def create_person_key(conn: Connection, participant_id: uuid.UUID, now: datetime) -> PersonCipher:
    """A fresh key for a participant, stored wrapped in this transaction."""
    cipher = PersonCipher(participant_id, new_person_key())
    store_person_key(conn, cipher, now)
    return cipher


def ciphers_for(
    conn: Connection, participant_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, PersonCipher]:
    """The ciphers of those of ``participant_ids`` whose key still exists (erased: absent)."""
    ids = list(dict.fromkeys(participant_ids))
    if not ids:
        return {}
    ring = keyring()
    found: dict[uuid.UUID, PersonCipher] = {}
    for start in range(0, len(ids), 500):
        rows = conn.execute(
            sa.select(_pk.participant_id, _pk.wrapped_key).where(
                _pk.participant_id.in_(ids[start : start + 500])
            )
        ).all()
        for pid, wrapped in rows:
            found[pid] = PersonCipher(pid, ring.unwrap(pid, bytes(wrapped)))
    return found


def cipher_for(conn: Connection, participant_id: uuid.UUID) -> PersonCipher | None:
    return ciphers_for(conn, [participant_id]).get(participant_id)


def open_fields(
    cipher: PersonCipher | None, row: Mapping[Any, Any], prefix: str = ""
) -> dict[str, str | None]:
    """The plaintext personal fields of ``row`` (columns named ``prefix + field``); all
    ``None`` when the person's key is gone."""
    opened: dict[str, str | None] = {}
    for field in PERSONAL_FIELDS:
        column = prefix + field
        if column not in row:
            continue
        stored = row[column]
        opened[field] = (
            cipher.open(field, stored if isinstance(stored, str) else None)
            if cipher is not None
            else None
        )
    return opened


def destroy_person_key(conn: Connection, participant_id: uuid.UUID) -> bool:
    """Delete the person's key: whatever of theirs is sealed can never be opened again."""
    result = conn.execute(person_keys.delete().where(_pk.participant_id == participant_id))
    return bool(result.rowcount)


def open_person(
    cipher: PersonCipher | None, row: Mapping[Any, Any], prefix: str = ""
) -> Person | None:
    """The :class:`Person` of a ``participants`` row (columns ``prefix + name``); ``None``
    when the person's key is gone (erased)."""
    if cipher is None:
        return None
    fields = open_fields(cipher, row, prefix)
    city = row[prefix + "city"]
    return Person(
        participant_id=cipher.participant_id,
        full_name=fields.get("full_name") or "",
        name_key=fields.get("name_key") or "",
        email=fields.get("email"),
        phone=fields.get("phone"),
        organisation=fields.get("organisation"),
        city=str(city),
    )
