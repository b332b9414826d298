"""The market's audit log reads as sentences naming the stall, in the reader's language, with
the raw keys and values folded away beneath each."""

from market.markets import services as market_services
from market.merchants import services as merchant_services

OLD = "Vietcombank · 0011001234567 · NGUYEN THI HOA"
NEW = "VietinBank · 555666777 · NGUYEN THI HOA"


def _change_payee(world):
    payee = merchant_services.set_payee(
        world.users["manager"],
        world.stall_a,
        expected_current_id=world.payee_a.id,
        bank_bin="970415",
        account_number="555666777",
        service="account",
        holder_name="NGUYEN THI HOA",
    )
    merchant_services.verify_payee(world.users["manager2"], payee)


def test_a_payee_change_reads_as_a_sentence_naming_the_stall(world, client, auth):
    _change_payee(world)
    auth.login("manager")
    page = client.get("/markets/TN-A/audit").text
    assert f"manager đổi tài khoản nhận tiền của sạp A-01: {OLD} → {NEW} (chờ xác minh)" in page
    assert f"manager2 xác minh tài khoản nhận tiền của sạp A-01: {NEW}" in page
    # The raw detail stays available, folded under each sentence.
    details = page.split("<details", 1)[1]
    assert "payee.set" in details and "account_number" in details
    assert "payee.set" not in page.split("<details", 1)[0].split('class="audit"', 1)[1]


def test_stall_changes_name_fields_and_values_in_words(world, client, auth):
    market_services.save_stall(
        world.users["manager"],
        world.market_a,
        world.stall_a,
        code="A-01",
        zone="Khu B",
        category="thit",
        status="vacant",
    )
    auth.login("manager")
    page = client.get("/markets/TN-A/audit").text
    assert "manager sửa sạp A-01:" in page
    assert "trạng thái Đang kinh doanh → Còn trống" in page
    assert "ngành hàng Rau củ → Thịt" in page and "khu / dãy Khu A → Khu B" in page


def test_the_sentences_are_translated(world, client, auth):
    _change_payee(world)
    auth.login("manager")
    client.get("/lang/en")
    page = client.get("/markets/TN-A/audit").text
    assert f"manager changed the payee account of stall A-01: {OLD} → {NEW}" in page
    assert "đổi tài khoản" not in page
