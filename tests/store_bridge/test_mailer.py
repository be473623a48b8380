"""Sending over SMTP against a real server: what each kind of failure answers."""

import asyncio
from email.message import EmailMessage

from store_bridge.mail_config import parse_mail
from store_bridge.mailer import Accepted, Mailer, Refused, Unavailable

from .receipt_helpers import ADDRESS, mail_server, mail_table
from .smtp_rig import free_port

__all__ = ["mail_server"]


def message() -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = "receipts@corner.example"
    mail["To"] = ADDRESS
    mail["Subject"] = "Receipt"
    mail.set_content("hello")
    return mail


def mailer(server, tmp_path, **changes) -> Mailer:
    table = mail_table(server, tmp_path) | changes
    return Mailer(parse_mail({k: v for k, v in table.items() if v is not None}, tmp_path))


async def test_accepted_over_starttls_with_a_login(mail_server, tmp_path):
    server = mail_server()
    assert await mailer(server, tmp_path).send(message()) == Accepted()
    assert [m["To"] for m in server.received] == [ADDRESS]
    assert server.handler.logins[0][0] in {"LOGIN", "PLAIN"}


async def test_refused_for_good_and_for_now(mail_server, tmp_path):
    server = mail_server()
    server.handler.refuse = "550 5.1.1 no such mailbox"
    assert await mailer(server, tmp_path).send(message()) == Refused(550)
    server.handler.refuse = "451 4.3.0 try again later"
    answer = await mailer(server, tmp_path).send(message())
    assert isinstance(answer, Unavailable)
    assert "451" in answer.reason
    server.handler.refuse = None
    server.handler.refuse_data = "554 5.6.0 message refused"
    assert await mailer(server, tmp_path).send(message()) == Refused(554)
    assert server.received == []


async def test_never_in_clear_text_to_a_server_without_starttls(mail_server, tmp_path):
    server = mail_server(tls=False, login=False)
    answer = await mailer(server, tmp_path, username=None, password_file=None).send(message())
    assert answer == Unavailable("the mail server does not offer STARTTLS")
    assert server.received == []
    plain = mailer(
        server, tmp_path, username=None, password_file=None, starttls=False, ca_file=None
    )
    assert await plain.send(message()) == Accepted()  # allowed to this machine only
    assert len(server.received) == 1


async def test_a_wrong_login_or_an_untrusted_certificate_is_retried_later(mail_server, tmp_path):
    server = mail_server()
    (tmp_path / "wrong").write_text("wrong password", encoding="utf-8")
    answer = await mailer(server, tmp_path, password_file="wrong").send(message())
    assert answer == Unavailable("the login was refused (535)")  # the operator's to fix
    answer = await mailer(server, tmp_path, ca_file=None).send(message())
    assert isinstance(answer, Unavailable)
    assert answer.reason.startswith("TLS failed")
    assert server.received == []


async def test_nothing_listening_or_a_server_that_says_go_away(mail_server, tmp_path):
    server = mail_server(start=False)
    answer = await mailer(server, tmp_path).send(message())
    assert isinstance(answer, Unavailable)
    assert "ConnectionRefusedError" in answer.reason

    async def go_away(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"554 go away\r\n")
        await writer.drain()
        writer.close()

    port = free_port()
    grumpy = await asyncio.start_server(go_away, "127.0.0.1", port)
    try:
        answer = await mailer(server, tmp_path, port=port).send(message())
    finally:
        grumpy.close()
        await grumpy.wait_closed()
    assert answer == Unavailable("the mail server did not greet us (554)")
