"""A local stand-in for SePay's and Casso's transactions APIs, answering as they document
(market.payments.sync has the shapes): Bearer / Apikey tokens, pages, 401, 429 with
Retry-After, and slow answers. Runs on 127.0.0.1 on a free port, in a thread."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

SEPAY_TOKEN = "S" * 64
CASSO_TOKEN = "AK_CS.casso-test-key"


@dataclass
class ProviderState:
    sepay: list[dict[str, Any]] = field(default_factory=list)
    casso: list[dict[str, Any]] = field(default_factory=list)
    #: The most records a page holds, whatever was asked (both providers cap page sizes).
    page_cap: int = 100
    #: Answers to give before the real one, in order: ("429", seconds), ("slow", seconds),
    #: ("500", None).
    faults: list[tuple[str, float | None]] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)


def _handler(state: ProviderState):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:  # quiet
            pass

        def _send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
            raw = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(raw)

        def do_GET(self) -> None:
            state.requests.append(self.path)
            url = urlparse(self.path)
            query = {k: v[0] for k, v in parse_qs(url.query).items()}
            if state.faults:
                kind, value = state.faults.pop(0)
                if kind == "429":
                    return self._send(
                        429,
                        {
                            "status": "error",
                            "message": "Too many requests",
                            "error_code": "rate_limited",
                        },
                        {"Retry-After": str(int(value)), "X-RateLimit-Limit": "3"},
                    )
                if kind == "slow":
                    time.sleep(value)  # longer than the client's timeout
                if kind == "500":
                    return self._send(500, {"status": "error"})
            auth = self.headers.get("Authorization", "")
            page = int(query.get("page", "1"))
            if url.path == "/sepay/v2/transactions":
                if auth != f"Bearer {SEPAY_TOKEN}":
                    return self._send(
                        401,
                        {
                            "status": "error",
                            "message": "Invalid or disabled API key",
                            "error_code": "unauthorized",
                        },
                    )
                size = min(int(query.get("per_page", "20")), state.page_cap)
                rows = state.sepay
                chunk = rows[(page - 1) * size : page * size]
                last = max(1, -(-len(rows) // size))
                return self._send(
                    200,
                    {
                        "status": "success",
                        "data": chunk,
                        "meta": {
                            "pagination": {
                                "total": len(rows),
                                "per_page": size,
                                "current_page": page,
                                "last_page": last,
                                "has_more": page < last,
                            }
                        },
                    },
                )
            if url.path == "/casso/v2/transactions":
                if auth != f"Apikey {CASSO_TOKEN}":
                    return self._send(401, {"error": 401, "message": "Unauthorized"})
                size = min(int(query.get("pageSize", "10")), state.page_cap)
                rows = state.casso
                chunk = rows[(page - 1) * size : page * size]
                pages = max(1, -(-len(rows) // size))
                return self._send(
                    200,
                    {
                        "error": 0,
                        "message": "success",
                        "data": {
                            "page": page,
                            "pageSize": size,
                            "nextPage": page + 1 if page < pages else None,
                            "prevPage": page - 1 if page > 1 else None,
                            "totalPages": pages,
                            "totalRecords": len(rows),
                            "records": chunk,
                        },
                    },
                )
            return self._send(404, {"status": "error", "message": "Not found"})

    return Handler


class FakeProviders:
    def __init__(self) -> None:
        self.state = ProviderState()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self.state))
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> FakeProviders:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()


def sepay_record(
    uuid: str,
    *,
    reference: str,
    amount: int,
    account: str,
    when: str,
    kind: str = "in",
    content: str = "chuyen tien",
) -> dict[str, Any]:
    return {
        "id": uuid,
        "transaction_date": when,
        "account_number": account,
        "va": "",
        "transfer_type": kind,
        "amount_in": amount if kind == "in" else 0,
        "amount_out": amount if kind == "out" else 0,
        "accumulated": 1_500_000,
        "transaction_content": content,
        "reference_number": reference,
        "code": None,
        "bank_brand_name": "Vietcombank",
        "bank_account_id": "f9e8d7c6-b5a4-3210-fedc-ba0987654321",
        "va_id": None,
        "webhook_success": 0,
    }


def casso_record(
    ident: int, *, tid: str, amount: int, account: str, when: str, description: str = "chuyen tien"
) -> dict[str, Any]:
    return {
        "id": ident,
        "tid": tid,
        "description": description,
        "amount": amount,
        "cusum_balance": 1_070_904,
        "when": when,
        "bankSubAccId": account,
        "paymentChannel": "",
        "virtualAccount": "",
        "virtualAccountName": "",
        "corresponsiveName": "NGUYEN VAN A",
        "corresponsiveAccount": "",
        "corresponsiveBankId": "",
        "corresponsiveBankName": "",
        "accountId": 733,
        "bankCodeName": "vietinbank",
    }
