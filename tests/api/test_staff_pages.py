"""The staff pages and the chat page's feedback and history, in real headless Chromium,
with the real model behind them. Screenshots go to results/screenshots/."""

from __future__ import annotations

import pytest

from index.staff import Caller
from tests.api.conftest import CHROMEDRIVER, CHROMIUM
from tests.api.test_chat_page import SHOTS, _ask
from tests.conftest import LiveServer, hashing_settings

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not (CHROMIUM and CHROMEDRIVER), reason="Debian chromium / chromium-driver not installed"),
]
ADMIN = "admin-" + "k" * 30
MIYUN = "密云区工匠学院怎么运作"


@pytest.fixture(scope="module")
def site(e5, tmp_path_factory):
    from api.main import create_app
    from rag.pipeline import load_engine

    tmp = tmp_path_factory.mktemp("staff")
    settings = hashing_settings(tmp, admin_key=ADMIN, embed_model="e5-small")
    engine = load_engine(settings)
    boss = Caller("test", "admin")
    keys = {role: engine.staff.create_key(f"{role} of the test", role, by=boss)[0]
            for role in ("reader", "editor", "admin")}
    with LiveServer(create_app(settings, engine=engine)) as s:
        yield s, engine, keys


def wait(driver, fn, timeout=60):
    """Until ``fn`` is truthy; pages re-render, so an element gone stale means "look again"."""
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout, ignored_exceptions=(StaleElementReferenceException,)).until(lambda d: fn(d))


def css(driver, sel):
    from selenium.webdriver.common.by import By

    return driver.find_elements(By.CSS_SELECTOR, sel)


def test_chat_feedback_and_history(site, browser):
    server, engine, keys = site
    browser.get(f"{server.url}/chat?key={keys['reader']}")
    answer = _ask(browser, MIYUN)
    assert "密云区工匠学院" in answer.text and "refused" not in answer.get_attribute("class")
    thumbs = answer.find_elements("css selector", ".thumb.up")
    thumbs[0].click()
    form = wait(browser, lambda d: answer.find_element("css selector", ".fb-form"))
    form.find_element("css selector", "textarea").send_keys("引用准确")
    form.find_element("css selector", "input").send_keys("双导师制")
    form.find_element("css selector", "button").click()
    done = wait(browser, lambda d: answer.find_elements("css selector", ".fb-done"))
    assert "谢谢" in done[0].text
    stored = engine.staff.list_feedback()[0]
    assert (stored.rating, stored.question, stored.comment, stored.corrected) == (1, MIYUN, "引用准确", "双导师制")
    assert stored.citations and stored.actor.endswith("(reader of the test)")
    assert stored.answer == answer.text.split("\n")[0] or stored.answer.startswith(answer.text[:10])
    browser.save_screenshot(str(SHOTS / "chat-feedback.png"))

    # History survives a reload, can be reopened and deleted.
    browser.get(f"{server.url}/chat?key={keys['reader']}")
    css(browser, "#show-history")[0].click()
    convs = wait(browser, lambda d: css(d, "#conversations .conv"))
    assert convs[0].find_element("css selector", ".open").text == MIYUN
    browser.save_screenshot(str(SHOTS / "chat-history.png"))
    convs[0].find_element("css selector", ".open").click()
    msgs = css(browser, "#log li.msg")
    assert [m.get_attribute("class").split()[1] for m in msgs][:2] == ["user", "bot"]
    assert css(browser, "#log li.msg.bot button.cite"), "a reopened answer keeps its citations"
    css(browser, "#show-history")[0].click()
    wait(browser, lambda d: css(d, "#conversations .conv"))[0].find_element("css selector", ".delete").click()
    wait(browser, lambda d: css(d, "#conversations .empty"))
    # Another key's conversations are kept apart.
    browser.get(f"{server.url}/chat")
    css(browser, "#show-history")[0].click()
    assert wait(browser, lambda d: css(d, "#conversations li"))[0].text == "还没有保存的对话"


def test_chat_page_refuses_to_carry_a_write_key(site, browser):
    server, _, keys = site
    browser.get(f"{server.url}/chat?key={keys['editor']}")
    banner = wait(browser, lambda d: [b for b in css(d, "#banner") if b.is_displayed()])[0]
    assert "写权限" in banner.text and not css(browser, "#q")[0].is_enabled()
    browser.save_screenshot(str(SHOTS / "chat-write-key-refused.png"))


def login(browser, server, key):
    # A key from an earlier login would log the staff page in by itself: forget it first, on a
    # page of the same origin that does not use it (on /staff a pending login could store it again).
    browser.get(f"{server.url}/health")
    browser.execute_script("sessionStorage.clear()")
    browser.get(f"{server.url}/staff")
    css(browser, "#key")[0].send_keys(key)
    css(browser, "#login-form button")[0].click()
    wait(browser, lambda d: not css(d, "#login")[0].is_displayed())


def test_documents_page(site, browser, tmp_path):
    server, engine, keys = site
    engine.ask(MIYUN)  # so the article has cited sentences (the API records them; ask here through it)
    import httpx

    httpx.post(f"{server.url}/ask", json={"question": MIYUN}, timeout=60).raise_for_status()
    login(browser, server, keys["editor"])
    assert [b.text for b in css(browser, "#tabs button") if b.is_displayed()] == ["文档", "检索测试", "反馈"]
    rows = wait(browser, lambda d: css(d, "#doc-rows tr"))
    assert len(rows) >= 6
    # by a reporter's name, which stands in the articles' metadata only
    who = css(browser, "#doc-filter input[name=person]")[0]
    who.send_keys("宗晓畅")
    css(browser, "#doc-filter button")[0].click()
    wait(browser, lambda d: len(css(d, "#doc-rows tr")) == 2)
    assert {tr.find_elements("css selector", "td")[0].text for tr in css(browser, "#doc-rows tr")} == \
           {"“业工融合”助力企业发展", "海淀区苏家坨镇总工会开展情暖职工慰问活动"}
    who.clear()
    box = css(browser, "#doc-filter input[name=q]")[0]
    box.send_keys("密云")
    css(browser, "#doc-filter button")[0].click()
    wait(browser, lambda d: len(css(d, "#doc-rows tr")) == 1)
    css(browser, "#doc-rows tr")[0].click()
    view = wait(browser, lambda d: [v for v in css(d, "#doc-view") if v.is_displayed()])[0]
    assert "密云区总工会多措并举培育高技能人才队伍" in view.text
    assert view.find_elements("css selector", ".text mark"), "cited sentences are highlighted"
    chunks = view.find_elements("css selector", ".chunks li")
    assert len(chunks) >= 2
    chunk_id = chunks[0].get_attribute("data-chunk")
    chunks[0].find_element("css selector", "button").click()
    wait(browser, lambda d: "off" in (css(d, f'.chunks li[data-chunk="{chunk_id}"]') or [None])[0].get_attribute("class"))
    assert chunk_id in engine.staff.disabled().chunk_ids
    browser.save_screenshot(str(SHOTS / "staff-documents.png"))
    css(browser, f'.chunks li[data-chunk="{chunk_id}"] button')[0].click()
    wait(browser, lambda d: chunk_id not in engine.staff.disabled().chunk_ids)

    good = tmp_path / "朝阳区快递员驿站.txt"
    good.write_text("朝阳区总工会建成快递员暖心驿站\n\n本报讯 朝阳区总工会在全区建成二十个快递员暖心驿站，"
                    "冬季为快递员提供热水、充电和休息场所。", encoding="utf-8")
    bad = tmp_path / "tool.exe"
    bad.write_bytes(b"MZ\x00\x01")
    css(browser, "#files")[0].send_keys(f"{good}\n{bad}")
    items = wait(browser, lambda d: [li for li in css(d, "#uploads li") if li.get_attribute("class")]
                 if len(css(d, "#uploads li.ok, #uploads li.bad")) == 2 else None)
    by_name = {li.text.split(" ")[0]: li for li in items}
    assert by_name[good.name].get_attribute("class") == "ok" and "新增 1 篇" in by_name[good.name].text
    assert by_name[bad.name].get_attribute("class") == "bad" and ".exe" in by_name[bad.name].text
    browser.save_screenshot(str(SHOTS / "staff-upload.png"))


def test_retrieval_testing_page(site, browser):
    server, _, keys = site
    login(browser, server, keys["editor"])
    css(browser, '#tabs button[data-tab="retrieval"]')[0].click()
    css(browser, "#rt-form input[name=question]")[0].send_keys(MIYUN)
    css(browser, "#rt-form button")[0].click()
    rows = wait(browser, lambda d: css(d, "#rt-rows tr"))
    assert len(rows) == 5
    assert css(browser, "#rt-rows .tag.used"), "the passages the answer cites are marked"
    assert css(browser, "#rt-answer")[0].text.startswith("回答：")
    browser.save_screenshot(str(SHOTS / "staff-retrieval.png"))
    box = css(browser, "#rt-form input[name=question]")[0]
    box.clear()
    box.send_keys("首开集团工会主席叫什么名字")
    css(browser, "#rt-form button")[0].click()
    wait(browser, lambda d: css(d, "#rt-answer")[0].text.startswith("拒答"))


def test_feedback_review_keys_and_audit_pages(site, browser):
    server, engine, keys = site
    ans = engine.ask(MIYUN)
    from index.staff import Feedback

    fid = engine.staff.add_feedback(Feedback(
        rating=-1, question=MIYUN, answer=ans.text, comment="第二句不相关",
        citations=tuple({"n": c.n, "doc_id": c.chunk.doc_id, "chunk_id": c.chunk.id, "title": c.chunk.title,
                         "char_start": c.chunk.char_start, "char_end": c.chunk.char_end} for c in ans.citations)),
        by=Caller("reader", "reader"))
    login(browser, server, keys["admin"])
    css(browser, '#tabs button[data-tab="feedback"]')[0].click()
    card = wait(browser, lambda d: css(d, f'#fb-list li[data-id="{fid}"]'))[0]
    assert "第二句不相关" in card.text
    card.find_elements("css selector", "input[type=checkbox]")[0].click()
    browser.save_screenshot(str(SHOTS / "staff-feedback.png"))
    card.find_element("css selector", "button.primary").click()
    wait(browser, lambda d: engine.staff.get_feedback(fid).status == "confirmed")
    assert engine.staff.get_feedback(fid).confirmed_doc_ids == (ans.citations[0].chunk.doc_id,)

    css(browser, '#tabs button[data-tab="keys"]')[0].click()
    css(browser, "#key-form input[name=name]")[0].send_keys("工会内网")
    css(browser, "#key-form button")[0].click()
    notice = wait(browser, lambda d: [n for n in css(d, "#new-key") if n.is_displayed()])[0]
    assert "chat/embed.js" in notice.text and 'data-key="zr-r' in notice.text
    browser.save_screenshot(str(SHOTS / "staff-keys.png"))
    css(browser, '#tabs button[data-tab="audit"]')[0].click()
    rows = wait(browser, lambda d: css(d, "#audit-rows tr"))
    assert any("key.create" in r.text for r in rows) and any("feedback.review" in r.text for r in rows)
    browser.save_screenshot(str(SHOTS / "staff-audit.png"))


def test_each_role_sees_its_pages_and_is_refused_elsewhere(site, browser):
    server, _, keys = site
    browser.get(f"{server.url}/staff")
    css(browser, "#key")[0].send_keys("zr-rnot-a-key")
    css(browser, "#login-form button")[0].click()
    err = wait(browser, lambda d: css(d, "#login-error")[0].text)
    assert "unknown or has been revoked" in err
    seen = {}
    for role in ("reader", "editor", "admin"):
        login(browser, server, keys[role])
        seen[role] = [b.text for b in css(browser, "#tabs button") if b.is_displayed()]
        # The server refuses what the role may not do, whatever the page shows.
        status = browser.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "fetch('/admin/keys', {headers: {Authorization: 'Bearer ' + sessionStorage.getItem('zhrag.staff.key')}})"
            ".then(r => done(r.status));")
        assert status == (200 if role == "admin" else 403), role
        css(browser, "#logout")[0].click()
        wait(browser, lambda d: css(d, "#login")[0].is_displayed())
    assert seen == {"reader": ["检索测试"], "editor": ["文档", "检索测试", "反馈"],
                    "admin": ["文档", "检索测试", "反馈", "密钥", "审计"]}


def test_bad_input_on_the_forms_gets_a_message(site, browser):
    server, _, keys = site
    login(browser, server, keys["admin"])
    css(browser, '#tabs button[data-tab="keys"]')[0].click()
    css(browser, "#key-form input[name=name]")[0].send_keys("   ")
    css(browser, "#key-form button")[0].click()
    msg = wait(browser, lambda d: css(d, "#error")[0].text)
    assert msg.startswith("name：") and "at least 1 character" in msg
    css(browser, '#tabs button[data-tab="retrieval"]')[0].click()
    css(browser, "#rt-form input[name=question]")[0].send_keys(MIYUN)
    # Past the browser's own checks (as a hand-made request would be): the server's message shows.
    browser.execute_script("const k = document.querySelector('#rt-form input[name=top_k]');"
                           "k.removeAttribute('max'); k.value = '99';")
    css(browser, "#rt-form button")[0].click()
    assert wait(browser, lambda d: css(d, "#error")[0].text).startswith("top_k：")


PAGES = [("chat", "/chat?key={reader}", None), ("staff-documents", "/staff#documents", "editor"),
         ("staff-retrieval", "/staff#retrieval", "editor"), ("staff-feedback", "/staff#feedback", "admin"),
         ("staff-keys", "/staff#keys", "admin"), ("staff-audit", "/staff#audit", "admin")]


@pytest.mark.parametrize(("width", "height", "tag"), [(1280, 900, "desktop"), (390, 844, "phone")])
def test_every_page_fits_desktop_and_phone_widths(site, browser, width, height, tag):
    """Screenshots of each page at both widths (results/screenshots/*-desktop.png, *-phone.png);
    nothing sticks out sideways (wide tables scroll inside their own box)."""
    server, _, keys = site
    browser.set_window_size(width, height)
    for name, path, role in PAGES:
        if role:
            login(browser, server, keys[role])
        if role:  # switch to the section through its tab, as a person would
            section = path.split("#")[1]
            css(browser, f'#tabs button[data-tab="{section}"]')[0].click()
            wait(browser, lambda d, s=section: css(d, "#" + s)[0].is_displayed())
        else:
            browser.get(server.url + path.format(reader=keys["reader"]))
        if name == "chat":
            _ask(browser, MIYUN)
        elif name == "staff-retrieval":
            css(browser, "#rt-form input[name=question]")[0].send_keys(MIYUN)
            css(browser, "#rt-form button")[0].click()
            wait(browser, lambda d: css(d, "#rt-rows tr"))
        else:
            wait(browser, lambda d: not css(d, "#login")[0].is_displayed())
        overflow = browser.execute_script("return document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 1, f"{name} is {overflow}px wider than a {tag} screen"
        browser.save_screenshot(str(SHOTS / f"{name}-{tag}.png"))


def test_upload_ask_cite_thumbs_down_export_and_eval(site, browser, tmp_path, monkeypatch, capsys):
    """The whole loop: an editor uploads an article; a reader asks about it on the chat page,
    it is cited, the reader gives a thumbs down with a correction; the editor confirms it;
    the export is scored by zhrag eval."""
    from eval.data import load_queries
    from eval.run import EvalConfig, run_eval
    from rag.cli import main

    server, engine, keys = site
    article = tmp_path / "环卫驿站.txt"
    article.write_text("## 丰台区总工会为环卫工人开设爱心餐厅\n\n本报讯 丰台区总工会联合辖区餐饮企业，为环卫工人开设"
                       "三十六家爱心餐厅，环卫工人凭工作证可享受每餐五元的优惠价格。\n", encoding="utf-8")
    login(browser, server, keys["editor"])
    css(browser, "#files")[0].send_keys(str(article))
    wait(browser, lambda d: css(d, "#uploads li.ok"))
    doc_id = next(i.doc_id for i in engine.store.list_articles(limit=1000) if "爱心餐厅" in i.title)

    question = "丰台区总工会为环卫工人开设了多少家爱心餐厅"
    browser.get(f"{server.url}/chat?key={keys['reader']}")
    answer = _ask(browser, question)
    assert "三十六家" in answer.text and "refused" not in answer.get_attribute("class")
    answer.find_elements("css selector", ".thumb.down")[0].click()
    form = wait(browser, lambda d: answer.find_element("css selector", ".fb-form"))
    form.find_element("css selector", "textarea").send_keys("应直接给出数字")
    form.find_element("css selector", "input").send_keys("三十六家")
    form.find_element("css selector", "button").click()
    wait(browser, lambda d: answer.find_elements("css selector", ".fb-done"))
    fb = next(f for f in engine.staff.list_feedback() if f.question == question)
    assert fb.rating == -1 and fb.corrected == "三十六家" and doc_id in {c["doc_id"] for c in fb.citations}

    login(browser, server, keys["editor"])
    css(browser, '#tabs button[data-tab="feedback"]')[0].click()
    card = wait(browser, lambda d: css(d, f'#fb-list li[data-id="{fb.id}"]'))[0]
    for box in card.find_elements("css selector", "input[type=checkbox]"):
        if box.get_attribute("value") == doc_id:
            box.click()
    card.find_element("css selector", "button.primary").click()
    wait(browser, lambda d: engine.staff.get_feedback(fb.id).status == "confirmed")

    monkeypatch.setenv("ZHRAG_EMBED_MODEL", "e5-small")
    monkeypatch.setenv("ZHRAG_INDEX_DIR", str(engine.settings.index_dir))
    monkeypatch.setenv("ZHRAG_CACHE_DIR", str(engine.settings.cache_dir))
    monkeypatch.setenv("ZHRAG_STAFF_DB", str(engine.settings.staff_path()))
    out = tmp_path / "export"
    assert main(["feedback", "export", str(out)]) == 0
    q = next(q for q in load_queries(out) if q.question == question)
    assert q.gold == frozenset({doc_id}) and q.answers == ("三十六家",)
    result = run_eval(EvalConfig(out, modes=("hybrid",), answers=10), engine.settings, use_cache=False)
    rows = {r["qid"]: r for r in result["per_query"]["retrieval"]["hybrid"]}
    assert rows[q.qid]["hit@1"] == 1.0
    answered = next(r for r in result["per_query"]["answers"] if r["qid"] == q.qid)
    assert answered["answer_contains_gold"] == 1.0
