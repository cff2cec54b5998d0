"""The legacy system's password: from the environment or a Prefect Secret block, never from the repo.

Never pass it to a flow as a plain string: Prefect keeps every flow run's parameters in its database and shows them
in its UI. Pass nothing (the flow asks here) or a pydantic SecretStr, which Prefect stores as `**********`.
"""
from __future__ import annotations

import os

PASSWORD_ENV = "TAXINTAKE_LEGACY_PASSWORD"
PASSWORD_BLOCK_ENV = "TAXINTAKE_LEGACY_PASSWORD_BLOCK"
DEFAULT_PASSWORD_BLOCK = "taxintake-legacy-password"


class MissingCredentials(RuntimeError):
    """No password in the environment and no Secret block of the configured name."""


def legacy_password(user: str | None = None) -> str:
    """The password of the robots' main account: `TAXINTAKE_LEGACY_PASSWORD`, else the Prefect Secret block
    `TAXINTAKE_LEGACY_PASSWORD_BLOCK` (default `taxintake-legacy-password`).

    Another account `user` (several robot sessions): `TAXINTAKE_LEGACY_PASSWORD__<USER>` (upper case, other
    characters as `_`), else the Secret block `taxintake-legacy-password-<user>`; the main account's settings are
    used when `user` is the main account (`TAXINTAKE_LEGACY_USER`) or none is given.
    """
    main_user = os.environ.get("TAXINTAKE_LEGACY_USER", "robot01")
    if user and user != main_user:
        suffix = "".join(c if c.isalnum() else "_" for c in user).upper()
        value = os.environ.get(f"{PASSWORD_ENV}__{suffix}")
        if value:
            return value
        return _from_block(f"{DEFAULT_PASSWORD_BLOCK}-{''.join(c if c.isalnum() else '-' for c in user).lower()}")
    value = os.environ.get(PASSWORD_ENV)
    if value:
        return value
    return _from_block(os.environ.get(PASSWORD_BLOCK_ENV, DEFAULT_PASSWORD_BLOCK))


def _from_block(block_name: str) -> str:
    try:
        from prefect.blocks.system import Secret

        secret = Secret.load(block_name)
    except (ValueError, ImportError) as exc:
        raise MissingCredentials(
            f"基幹システムのパスワードがありません: 環境変数 {PASSWORD_ENV} か Prefect の Secret ブロック "
            f"'{block_name}' を設定してください / no legacy password: set {PASSWORD_ENV} or the Prefect Secret "
            f"block '{block_name}'") from exc
    return str(secret.get())
