"""A real SMTP server for Baton's tests: aiosmtpd, each accepted message written to DIR.

Files are named by arrival (000001.eml, …) and written under a temporary name first, so a
reader never sees half a message. With BATON_SMTP_AUTH=user:password, AUTH is required.
"""
import argparse
import asyncio
import itertools
import os
import signal

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class Sink:
    def __init__(self, folder):
        self.folder = folder
        self.numbers = itertools.count(1)

    async def handle_DATA(self, server, session, envelope):
        number = next(self.numbers)
        path = os.path.join(self.folder, f"{number:06d}.eml")
        with open(path + ".part", "wb") as out:
            out.write(f"X-Envelope-To: {', '.join(envelope.rcpt_tos)}\r\n".encode())
            out.write(envelope.original_content or envelope.content)
        os.replace(path + ".part", path)
        return "250 OK"


def authenticator(expected):
    user, _, password = expected.partition(":")

    def check(server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and auth_data.login.decode() == user \
            and auth_data.password.decode() == password
        return AuthResult(success=ok)

    return check


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--dir", required=True)
    args = parser.parse_args()
    os.makedirs(args.dir, exist_ok=True)
    auth = os.environ.get("BATON_SMTP_AUTH")
    kwargs = {}
    if auth:
        kwargs = dict(authenticator=authenticator(auth), auth_required=True, auth_require_tls=False)
    controller = Controller(Sink(args.dir), hostname="127.0.0.1", port=args.port, **kwargs)
    controller.start()
    print(f"listening on 127.0.0.1:{args.port}", flush=True)
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    loop.run_until_complete(stop.wait())
    controller.stop()


if __name__ == "__main__":
    main()
