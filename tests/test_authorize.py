"""The website authorization flow end to end on the emulator: its consent page and authorization_code grant, the
loopback redirect, state checking, the code exchange, storing into credentials files, and ``sqlspapi authorize``.

The "browser" is ``requests`` fetching the consent URL: the emulator redirects it to the loopback listener.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

import sqlspapi
from sqlspapi import emulator
from sqlspapi.errors import AuthError, ConnectionStringError
from sqlspapi.interfaces.authorize import authorize, consent_base, consent_url, exchange_code
from sqlspapi.settings.connstr import parse
from sqlspapi.settings.sources import read_credentials_file
from sqlspapi.settings.store import store_refresh_token

APP = "amzn1.sp.solution.0000-test-app"


@pytest.fixture(scope="module")
def emu():
    """An emulator of its own (its consent page and token endpoint)."""
    with emulator.start(orders=20) as server:
        yield server


def app_settings(emu, **extra):
    """The demo app's ClientId/ClientSecret against ``emu``, without a refresh token."""
    text = ";".join(p for p in emu.connection_string(**extra).split(";") if not p.startswith("RefreshToken="))
    return parse(text, require_credentials=False)


def browser(url: str) -> None:
    """The seller's browser: opens the consent page and follows its redirect to the loopback listener."""
    requests.get(url, timeout=30)


def test_consent_url_of_each_region() -> None:
    settings = parse("ClientId=a;ClientSecret=b;Region=eu", require_credentials=False)
    assert consent_base(settings) == "https://sellercentral-europe.amazon.com"
    assert consent_base(settings, vendor=True) == "https://vendorcentral.amazon.co.uk"
    assert consent_base(settings, region="fe") == "https://sellercentral.amazon.co.jp"
    url = consent_url("https://sellercentral.amazon.com", APP, state="s", redirect_uri="http://127.0.0.1:1/x",
                      draft=True)
    parts = urlsplit(url)
    assert (parts.netloc, parts.path) == ("sellercentral.amazon.com", "/apps/authorize/consent")
    assert parse_qs(parts.query) == {"application_id": [APP], "state": ["s"], "version": ["beta"],
                                     "redirect_uri": ["http://127.0.0.1:1/x"]}
    assert "version" not in consent_url("https://h", APP, state="s", redirect_uri="http://127.0.0.1:1/x")


def test_flow_end_to_end_gives_a_working_refresh_token(emu) -> None:
    shown: list[str] = []
    result = authorize(app_settings(emu), APP, show_url=shown.append, open_url=browser, timeout=60)
    query = parse_qs(urlsplit(shown[0]).query)
    assert shown[0].startswith(emu.url + "/apps/authorize/consent?")
    assert query["application_id"] == [APP] and len(query["state"][0]) >= 32
    assert query["redirect_uri"][0].startswith("http://127.0.0.1:")
    assert result.selling_partner_id == emu.seller_id and result.stored_in is None
    token = result.refresh_token.reveal()
    assert token.startswith("Atzr|") and token not in repr(result)
    # the new refresh token queries the seller's data
    connection = sqlspapi.connect(emu.connection_string(), RefreshToken=token)
    try:
        sql = "SELECT count(*) FROM orders WHERE createdTime >= '2020-01-01'"
        assert connection.cursor().execute(sql).fetchone()[0] > 0
    finally:
        connection.close()
    assert any(c.operation == "lwaToken" and c.params.get("grant_type") == "refresh_token" for c in emu.calls)


def test_codes_are_single_use_and_bound_to_the_redirect_uri(emu) -> None:
    def code_for(redirect_uri: str) -> str:
        answer = requests.get(consent_url(emu.url, APP, state="s", redirect_uri=redirect_uri),
                              allow_redirects=False, timeout=30)
        assert answer.status_code == 302
        location = answer.headers["Location"]
        assert location.startswith(redirect_uri + "?")
        return parse_qs(urlsplit(location).query)["spapi_oauth_code"][0]

    settings = app_settings(emu)
    code = code_for("http://127.0.0.1:9/a")
    with pytest.raises(AuthError, match="invalid_grant.*run sqlspapi authorize again") as info:
        exchange_code(settings, code, "http://127.0.0.1:9/b")
    assert code not in str(info.value)
    code = code_for("http://127.0.0.1:9/a")
    assert exchange_code(settings, code, "http://127.0.0.1:9/a")
    with pytest.raises(AuthError, match="invalid_grant"):
        exchange_code(settings, code, "http://127.0.0.1:9/a")
    code = code_for("http://127.0.0.1:9/a")
    wrong = settings.with_overrides(ClientSecret="not-the-secret")
    with pytest.raises(AuthError, match="invalid_client.*check ClientSecret") as info:
        exchange_code(wrong, code, "http://127.0.0.1:9/a")
    assert "not-the-secret" not in str(info.value)
    answer = requests.get(emu.url + "/apps/authorize/consent", params={"state": "s"}, allow_redirects=False,
                          timeout=30)
    assert answer.status_code == 400


def test_a_forged_state_is_refused_without_exchange(emu) -> None:
    calls_before = len([c for c in emu.calls if c.operation == "lwaToken"])

    def forger(url: str) -> None:
        query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
        answer = requests.get(url, allow_redirects=False, timeout=30)
        location = answer.headers["Location"].replace("state=" + query["state"], "state=forged")
        page = requests.get(location, timeout=30)
        assert page.status_code == 400 and "state" in page.text

    with pytest.raises(AuthError, match="state does not match"):
        authorize(app_settings(emu), APP, open_url=forger, timeout=60)
    assert len([c for c in emu.calls if c.operation == "lwaToken"]) == calls_before


@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
def test_store_into_yaml_json_hjson_keeps_other_accounts(tmp_path: Path) -> None:
    yml = tmp_path / "credentials.yml"
    yml.write_text("version: '1.0'\nother:\n  lwa_app_id: app\n  refresh_token: keep\n", encoding="utf-8")
    yml.chmod(0o644)
    store_refresh_token(yml, "Atzr|new", account="shop", seller_id="A1SELLER")
    assert oct(yml.stat().st_mode & 0o777) == "0o600"
    assert read_credentials_file(yml, "shop").values == {"RefreshToken": "Atzr|new", "SellerId": "A1SELLER"}
    assert read_credentials_file(yml, "other").values["RefreshToken"] == "keep"
    store_refresh_token(yml, "Atzr|newer", account="other")
    assert read_credentials_file(yml, "other").values == {"ClientId": "app", "RefreshToken": "Atzr|newer"}
    assert "refresh_token: Atzr|newer" in yml.read_text(encoding="utf-8")  # its own field name is kept

    flat = tmp_path / "zuar.json"
    flat.write_text(json.dumps({"client_id": "c", "amazon_sp_refresh_token": "old"}), encoding="utf-8")
    store_refresh_token(flat, "Atzr|new")
    assert json.loads(flat.read_text(encoding="utf-8")) == {"client_id": "c", "amazon_sp_refresh_token": "Atzr|new"}
    with pytest.raises(ConnectionStringError, match="not named accounts") as info:
        store_refresh_token(flat, "Atzr|secret-value", account="shop")
    assert "secret-value" not in str(info.value)

    new = tmp_path / "sub" / "new.hjson"
    store_refresh_token(new, "Atzr|h", account="eu", seller_id="A2")
    assert oct(new.stat().st_mode & 0o777) == "0o600"
    assert read_credentials_file(new, "eu").values == {"RefreshToken": "Atzr|h", "SellerId": "A2"}
    assert [p.name for p in new.parent.iterdir()] == ["new.hjson"]  # no temporary file left


def run_cli(args: list[str], env: dict[str, str]) -> subprocess.Popen[str]:
    """``sqlspapi authorize ...`` as a real process."""
    return subprocess.Popen([sys.executable, "-m", "sqlspapi.interfaces.cli", "authorize", *args], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def consent_url_of(process: subprocess.Popen[str]) -> str:
    """The consent URL ``sqlspapi authorize --no-browser`` prints (the line it waits after)."""
    assert process.stdout is not None
    for line in process.stdout:
        if "/apps/authorize/consent?" in line:
            return line[line.index("http"):].strip()
    return ""


def test_cli_stores_into_a_credentials_file_and_never_prints_the_token(emu, tmp_path: Path) -> None:
    env = {**os.environ, "LWA_APP_ID": "demo-client-id", "LWA_CLIENT_SECRET": "demo-client-secret"}
    target = tmp_path / "credentials.yml"
    connstr = f"TokenUrl={emu.token_url};Endpoint={emu.url}"
    process = run_cli([connstr, "--application-id", APP, "--no-browser", "--credentials-file", str(target),
                       "--account", "shop"], env)
    url = consent_url_of(process)
    browser(url)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    token = read_credentials_file(target, "shop").values["RefreshToken"]
    assert token.startswith("Atzr|emu-") and token not in out + err
    assert str(target) in out and "shop" in out
    assert oct(target.stat().st_mode & 0o777) == "0o600"

    process = run_cli([connstr, "--application-id", APP, "--no-browser", "--print"], env)
    assert process.stdout is not None
    for line in process.stdout:
        if "/apps/authorize/consent?" in line:
            browser(line[line.index("http"):].strip())
            break
    out, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    assert "Atzr|emu-" in out


def test_cli_asks_where_the_token_goes(capsys: pytest.CaptureFixture[str]) -> None:
    from sqlspapi.interfaces.cli import main

    status = main(["authorize", "ClientId=a;ClientSecret=the-secret", "--application-id", APP, "--no-browser"])
    err = capsys.readouterr().err
    assert status == 1 and "--credentials-file PATH" in err and "--print" in err and "the-secret" not in err


def test_a_file_that_cannot_take_the_token_fails_before_consent(emu, tmp_path: Path) -> None:
    flat = tmp_path / "flat.json"
    flat.write_text('{"client_id": "c"}', encoding="utf-8")
    consents = len([c for c in emu.calls if c.operation == "consent"])
    with pytest.raises(ConnectionStringError, match="not named accounts"):
        authorize(app_settings(emu), APP, open_url=browser, credentials_file=flat, account="shop", timeout=60)
    assert len([c for c in emu.calls if c.operation == "consent"]) == consents
    result = authorize(app_settings(emu), APP, open_url=browser, credentials_file=flat, timeout=60)
    assert result.stored_in == flat
    assert read_credentials_file(flat).values["SellerId"] == emu.seller_id


def test_zappysys_auth_url_gives_the_consent_page_the_app_and_the_draft_flag(emu, tmp_path: Path) -> None:
    """A ZappySys connection string's AuthUrl is where ``sqlspapi authorize`` sends the seller: its host and path, its
    application_id (no --application-id needed) and its version=beta."""
    env = {**os.environ, "LWA_APP_ID": "demo-client-id", "LWA_CLIENT_SECRET": "demo-client-secret"}
    auth_url = f"{emu.url}/apps/authorize/consent?application_id={APP}&version=beta"
    connstr = f"TokenUrl={emu.token_url};Endpoint=https://sellingpartnerapi-na.amazon.com;AuthUrl={{{auth_url}}}"
    process = run_cli([connstr, "--no-browser", "--print"], env)
    url = consent_url_of(process)
    query = parse_qs(urlsplit(url).query)
    assert url.startswith(f"{emu.url}/apps/authorize/consent?")
    assert query["application_id"] == [APP] and query["version"] == ["beta"]
    browser(url)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    assert "Atzr|emu-" in out


def test_without_an_application_id_authorize_says_where_to_give_it(capsys: pytest.CaptureFixture[str]) -> None:
    from sqlspapi.interfaces.cli import main

    placeholder = "https://sellercentral.amazon.com/apps/authorize/consent?application_id=[YOUR-APPLICATION-ID]"
    status = main(["authorize", f"ClientId=a;ClientSecret=b;AuthUrl={{{placeholder}}}", "--no-browser", "--print"])
    err = capsys.readouterr().err
    assert status == 1 and "--application-id" in err and "AuthUrl" in err
