"""The chat page in real headless Chromium (Debian's chromium + chromium-driver), with the
real model behind it. Screenshots go to results/screenshots/ for a person to look at."""

from __future__ import annotations

import pytest

from tests.api.conftest import CHROMEDRIVER, CHROMIUM
from tests.conftest import ROOT, LiveServer, hashing_settings

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not (CHROMIUM and CHROMEDRIVER), reason="Debian chromium / chromium-driver not installed"),
]
SHOTS = ROOT / "results" / "screenshots"


@pytest.fixture(scope="module")
def server(e5, tmp_path_factory):
    from api.main import create_app
    from rag.pipeline import load_engine

    tmp = tmp_path_factory.mktemp("page")
    settings = hashing_settings(tmp).model_copy(update={"embed_model": "e5-small"})
    engine = load_engine(settings)
    with LiveServer(create_app(settings, engine=engine)) as s:
        yield s


def _ask(driver, question: str):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    before = len(driver.find_elements(By.CSS_SELECTOR, "li.msg.bot[data-done]"))
    box = driver.find_element(By.ID, "q")
    box.send_keys(question)
    box.send_keys(Keys.ENTER)
    WebDriverWait(driver, 60).until(
        lambda d: len(d.find_elements(By.CSS_SELECTOR, "li.msg.bot[data-done]")) > before)
    return driver.find_elements(By.CSS_SELECTOR, "li.msg.bot[data-done]")[-1]


def test_ask_stream_and_open_a_citation(server, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(server.url + "/chat")
    assert "资料问答" in browser.title
    answer = _ask(browser, "密云区工匠学院怎么运作")
    assert "error" not in answer.get_attribute("class")
    assert "密云区工匠学院" in answer.text
    cites = answer.find_elements(By.CSS_SELECTOR, "button.cite")
    assert cites and cites[0].text == "[1]"
    cites[0].click()
    source = WebDriverWait(browser, 10).until(lambda d: answer.find_element(By.CSS_SELECTOR, ".source"))
    assert "密云区总工会多措并举培育高技能人才队伍" in source.text
    assert source.find_elements(By.TAG_NAME, "mark"), "the quoted sentence is highlighted"

    follow = _ask(browser, "那它的导师有哪些人？")
    assert "导师" in follow.text and follow.find_elements(By.CSS_SELECTOR, "button.cite")
    assert follow.get_attribute("data-query") == "密云区工匠学院的导师有哪些人？"
    # the question as the service read it is shown when it differs from what was typed
    assert follow.find_element(By.CSS_SELECTOR, ".asked").text == "按“密云区工匠学院的导师有哪些人？”回答"
    assert not answer.find_elements(By.CSS_SELECTOR, ".asked")

    refused = _ask(browser, "如何申请美国签证")
    assert "refused" in refused.get_attribute("class")
    assert not refused.find_elements(By.CSS_SELECTOR, "button.cite")

    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / "chat-page.png"
    browser.save_screenshot(str(path))
    assert path.stat().st_size > 10_000

    # "新对话" clears the log and the history: a follow-up no longer leans on the old question.
    browser.find_element(By.ID, "reset").click()
    assert len(browser.find_elements(By.CSS_SELECTOR, "#log li")) == 1
    fresh = _ask(browser, "那它的导师有哪些人？")
    assert fresh.get_attribute("data-query") == "那它的导师有哪些人？"


def test_bad_input_shows_a_clear_error(server, browser):
    browser.get(server.url + "/chat")
    browser.execute_script("document.getElementById('q').removeAttribute('maxlength')")
    answer = _ask(browser, "问" * 600)
    assert "error" in answer.get_attribute("class")
    assert "500" in answer.text  # the limit is named in the message


def test_one_script_tag_embeds_the_chat(server, browser, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    host = tmp_path / "intranet.html"
    host.write_text(f'<!doctype html><meta charset="utf-8"><h1>工会内网</h1>'
                    f'<script src="{server.url}/chat/embed.js" async></script>', encoding="utf-8")
    browser.get(host.as_uri())
    launcher = WebDriverWait(browser, 10).until(lambda d: d.find_element(By.ID, "zhrag-launcher"))
    launcher.click()
    frame = WebDriverWait(browser, 10).until(lambda d: d.find_element(By.ID, "zhrag-frame"))
    browser.switch_to.frame(frame)
    WebDriverWait(browser, 20).until(lambda d: d.find_element(By.ID, "q"))
    answer = _ask(browser, "长春市总工会设置了多少个竞赛项目")
    assert "145" in answer.text
    browser.switch_to.default_content()
    SHOTS.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(SHOTS / "embedded.png"))


def test_page_assets_are_served_without_any_cdn(tmp_path):
    from fastapi.testclient import TestClient

    from api.main import create_app

    with TestClient(create_app(hashing_settings(tmp_path))) as c:
        page = c.get("/chat")
        assert page.status_code == 200 and "text/html" in page.headers["content-type"]
        for asset in ("/chat/assets/chat.js", "/chat/assets/chat.css", "/chat/embed.js"):
            r = c.get(asset)
            assert r.status_code == 200 and "http" not in r.text.replace("https://zhrag.intranet", "")
        assert "http" not in page.text
