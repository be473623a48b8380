"""The `[mail]` table: what it accepts, and every refusal naming its key."""

from pathlib import Path

import pytest

from store_bridge.core.receipt import Language
from store_bridge.mail_config import MailConfigError, parse_mail

BASE = {"host": "smtp.example.com", "from": "Corner <receipts@corner.example>"}


def test_defaults(tmp_path):
    spec = parse_mail(BASE, tmp_path)
    assert (spec.port, spec.starttls, spec.address_retention_days) == (587, True, 0)
    assert (spec.language, str(spec.timezone), spec.code_ttl_h) == (Language.EN, "UTC", 24)
    assert spec.username is None
    assert spec.password is None
    assert spec.page_url is None


def test_everything_given(tmp_path):
    (tmp_path / "pw").write_text("s3cret-pass\n", encoding="utf-8")
    (tmp_path / "ca.pem").write_text("-", encoding="utf-8")
    spec = parse_mail(
        BASE
        | {
            "port": 2525,
            "username": "u",
            "password_file": "pw",
            "ca_file": "ca.pem",
            "timeout_s": 10,
            "language": "de",
            "timezone": "Europe/Berlin",
            "address_retention_days": 3,
            "max_attempts": 4,
            "retry_base_s": 1,
            "retry_max_s": 60,
            "code_ttl_h": 2,
            "page_url": "https://shop.example/",
        },
        tmp_path,
    )
    assert spec.password == "s3cret-pass"
    assert "s3cret-pass" not in repr(spec)
    assert spec.ca_file == tmp_path / "ca.pem"
    assert spec.page_url == "https://shop.example"
    assert (spec.language, str(spec.timezone)) == (Language.DE, "Europe/Berlin")


def test_plain_text_only_to_this_machine(tmp_path):
    assert not parse_mail(BASE | {"host": "127.0.0.1", "starttls": False}, tmp_path).starttls
    assert not parse_mail(BASE | {"host": "localhost", "starttls": False}, tmp_path).starttls
    with pytest.raises(MailConfigError, match=r"^mail\.starttls: may be false only"):
        parse_mail(BASE | {"starttls": False}, tmp_path)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"host": ""}, r"^mail\.host: must be a non-empty text"),
        ({"port": 0}, r"^mail\.port: must be a whole number from 1 to 65535"),
        ({"port": True}, r"^mail\.port:"),
        ({"from": "not an address"}, r"^mail\.from: must be one address"),
        ({"from": "a@b.example, c@d.example"}, r"^mail\.from: must be one address"),
        ({"from": "a@b.example\r\nBcc: c@d.example"}, r"^mail\.from: must be one address"),
        ({"username": "u"}, r"^mail\.password_file: is required with a username"),
        ({"password_file": "missing"}, r"^mail\.password_file: cannot read"),
        ({"starttls": "yes"}, r"^mail\.starttls: must be true or false"),
        ({"ca_file": "missing.pem"}, r"^mail\.ca_file: .* is not a file"),
        ({"timeout_s": 0}, r"^mail\.timeout_s: must be a number of seconds"),
        ({"language": "fr"}, r"^mail\.language: must be one of en, de"),
        ({"timezone": "Mars/Olympus"}, r"^mail\.timezone: unknown time zone"),
        ({"address_retention_days": 31}, r"^mail\.address_retention_days:"),
        ({"retry_base_s": 100, "retry_max_s": 10}, r"^mail\.retry_max_s: must be at least"),
        ({"page_url": "shop.example"}, r"^mail\.page_url: must start with https://"),
        ({"sender": "x"}, r"^mail: unknown key\(s\) sender"),
    ],
)
def test_refusals_name_the_key(tmp_path, change, message):
    with pytest.raises(MailConfigError, match=message):
        parse_mail(BASE | change, tmp_path)


def test_password_files_that_cannot_be_used(tmp_path: Path):
    (tmp_path / "empty").write_text("\n", encoding="utf-8")
    (tmp_path / "binary").write_bytes(b"\xff\xfe")
    with pytest.raises(MailConfigError, match=r"^mail\.password_file: .* is empty"):
        parse_mail(BASE | {"password_file": "empty"}, tmp_path)
    with pytest.raises(MailConfigError, match=r"^mail\.password_file: .* is not UTF-8"):
        parse_mail(BASE | {"password_file": "binary"}, tmp_path)
    with pytest.raises(MailConfigError, match=r"^mail: must be a table"):
        parse_mail("smtp", tmp_path)
