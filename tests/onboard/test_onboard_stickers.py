"""Print kits of only the new and needing-reprint stickers, and a merchant's QR as PNG and
SVG files."""

import io
import re

import pypdfium2
import zxingcpp
from PIL import Image, ImageDraw
from sqlalchemy import select

from market.extensions import db
from market.markets.models import Stall
from market.merchants import services as merchant_services
from market.merchants.models import PayeeAccount
from market.vietqr import build_payload

STATIC_A = build_payload("970436", "0011001234567")


def _decode_pdf(data: bytes) -> list[str]:
    pdf = pypdfium2.PdfDocument(data)
    try:
        found = []
        for page in pdf:
            image = page.render(scale=150 / 72).to_pil()
            found.extend(r.text for r in zxingcpp.read_barcodes(image))
            page.close()
        return sorted(found)
    finally:
        pdf.close()


def _add_printable(world, code: str, account: str) -> Stall:
    stall = Stall(market_id=world.market_a.id, code=code, status="active")
    db.session.add(stall)
    db.session.flush()
    db.session.add(
        PayeeAccount(
            stall_id=stall.id,
            bank_bin="970405",
            account_number=account,
            holder_name="LE THI MAI",
            verified_at=db.func.now(),
        )
    )
    db.session.commit()
    return stall


def test_the_print_kit_can_hold_only_new_and_reprint_stickers(world, client, auth):
    auth.login("manager")
    assert client.get("/markets/TN-A/stickers.pdf").status_code == 200  # A-01 printed
    _add_printable(world, "A-02", "150020500002")  # new: never printed
    payee = merchant_services.set_payee(
        world.users["manager"],
        world.stall_a,
        bank_bin="970415",
        account_number="555666777",
        service="account",
        holder_name="NGUYEN THI HOA",
    )
    merchant_services.verify_payee(world.users["manager2"], payee)  # A-01 needs a reprint
    _add_printable(world, "A-03", "150020500003")
    client.get("/markets/TN-A/stalls/A-03/sticker.pdf").close()  # A-03 printed: up to date
    page = client.get("/markets/TN-A").text
    assert "stalls=new" in page and "In chỉ tem mới và cần in lại (2)" in page
    response = client.get("/markets/TN-A/stickers.pdf?stalls=new")
    assert response.status_code == 200
    assert "-moi.pdf" in response.headers["Content-Disposition"]
    assert _decode_pdf(response.data) == sorted(
        [build_payload("970415", "555666777"), build_payload("970405", "150020500002")]
    )
    # Printed now: nothing is new any more, and "all" still holds every sticker.
    again = client.get("/markets/TN-A/stickers.pdf?stalls=new")
    assert again.status_code == 409 and "Không có sạp nào cần in" in again.text
    assert len(_decode_pdf(client.get("/markets/TN-A/stickers.pdf?stalls=all").data)) == 3
    assert client.get("/markets/TN-A/stickers.pdf?stalls=some").status_code == 422


def test_the_print_command_can_print_only_new_stickers(world, runner, tmp_path):
    out = tmp_path / "kit.pdf"
    result = runner.invoke(args=["print-stickers", "--market", "TN-A", "-o", str(out)])
    assert result.exit_code == 0, result.output
    _add_printable(world, "A-02", "150020500002")
    result = runner.invoke(
        args=["print-stickers", "--market", "TN-A", "-o", str(out), "--only-new"]
    )
    assert result.exit_code == 0, result.output
    assert "wrote 1 stickers" in result.output
    assert _decode_pdf(out.read_bytes()) == [build_payload("970405", "150020500002")]
    printed = db.session.scalars(select(Stall.code).where(Stall.sticker_printed_at.is_not(None)))
    assert sorted(printed) == ["A-01", "A-02"]


def _svg_image(svg: str) -> Image.Image:
    """Draw the SVG's module runs (``M x y h n v1 h-n z``) at 8 px per module."""
    side = int(re.search(r'viewBox="0 0 (\d+) \1"', svg).group(1))
    scale = 8
    image = Image.new("L", (side * scale, side * scale), 255)
    draw = ImageDraw.Draw(image)
    for x, y, n in re.findall(r"M(\d+) (\d+)h(\d+)v1h-\3z", svg):
        x, y, n = int(x), int(y), int(n)
        draw.rectangle([x * scale, y * scale, (x + n) * scale - 1, (y + 1) * scale - 1], fill=0)
    return image


def test_a_merchant_downloads_their_qr_as_png_and_svg_files(world, client, auth):
    auth.login("merchant")
    page = client.get("/me/").text
    for fmt in ("png", "svg"):
        link = f"/stalls/TN-A/A-01/qr.{fmt}?download=1"
        assert link in page
        response = client.get(link)
        assert response.status_code == 200
        assert response.headers["Content-Disposition"] == (
            f'attachment; filename="qr-TN-A-A-01.{fmt}"'
        )
    png = client.get("/stalls/TN-A/A-01/qr.png?download=1").data
    assert [r.text for r in zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))] == [STATIC_A]
    svg = client.get("/stalls/TN-A/A-01/qr.svg?download=1").text
    assert [r.text for r in zxingcpp.read_barcodes(_svg_image(svg))] == [STATIC_A]
    # Shown in the page (no download asked for), it stays an image, not an attachment.
    assert "Content-Disposition" not in client.get("/stalls/TN-A/A-01/qr.svg").headers
