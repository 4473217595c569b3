"""``rh-register new`` on any name, organisation and validity: a clear error or correct files,
never a traceback and never a file outside the output folder."""

from __future__ import annotations

import contextlib
import io
import tempfile
from pathlib import Path

import pytest
from cryptography import x509
from hypothesis import example, given
from hypothesis import strategies as st

from airflow_provider_rh.registration import new_private_key
from airflow_provider_rh.registration.__main__ import main

_KEY = new_private_key(key_size=2048)

names = st.one_of(
    st.text(max_size=80),
    st.text(alphabet="./\\-_ aåz09\x00\n", max_size=70),
    st.builds(lambda n: "x" * n, st.integers(0, 400)),
    st.sampled_from(["../evil", "/tmp/evil", "..", ".", "a/../../b", "C:\\evil", "~/evil"]),
)


def _run(argv: list[str]) -> tuple[int, str]:
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main(argv)
    return code, err.getvalue()


@pytest.fixture(autouse=True)
def _fast_keys(monkeypatch):
    monkeypatch.setattr("airflow_provider_rh.registration.__main__.new_private_key", lambda passphrase: _KEY)


@pytest.mark.fuzz
@given(name=names, days=st.integers(-(10**12), 10**12), organization=st.none() | st.text(max_size=80))
@example(name="", days=730, organization=None)
@example(name="x" * 300, days=730, organization=None)
@example(name="ok.example.se", days=0, organization=None)
@example(name="-:", days=0, organization=None)
@example(name="ok.example.se", days=2_933_000, organization=None)
def test_new_refuses_clearly_or_writes_inside_the_folder(name: str, days: int, organization: str | None):
    with tempfile.TemporaryDirectory() as root:
        out = Path(root) / "out"
        # name=value: a value starting with "-" is a value, as a user would quote it
        argv = ["new", f"--name={name}", "--out", str(out), f"--days={days}"]
        if organization is not None:
            argv += [f"--organization={organization}"]
        code, err = _run(argv)
        written = [p for p in Path(root).rglob("*") if p.is_file()]
        assert all(out in p.parents for p in written), written
        if code == 2:
            assert err.startswith("rh-register: ")
            assert written == []
            return
        assert code == 0
        assert {p.name for p in written} == {f"{name}.key.pem", f"{name}.crt.pem", f"{name}.pem"}
        cert = x509.load_pem_x509_certificate((out / f"{name}.crt.pem").read_bytes())
        assert cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value == name
        assert 1 <= days <= 3650
