"""The web console's foundation in a real browser (headless Chromium), on `make run`'s stack:
sign-up with the mailed link, teams and invitations between two people, access tokens, an API
refusal shown at its field, paging, log-out, keyboard use and a phone-width screen; and how
`make run` serves the console beside the API."""

from __future__ import annotations

import base64
import time
from pathlib import Path

import pytest
import requests
from nacl.public import PrivateKey, SealedBox

from tests.browser.conftest import PHONE, ROOT, Console, unique_email, unique_slug
from tests.fixtures.local_stack import LocalStack

pytestmark = pytest.mark.browser


def expect(target):
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(target)


def api(stack_url: str, token: str, method: str, path: str, body=None) -> requests.Response:
    return requests.request(
        method, stack_url + path, json=body, headers={"Authorization": f"Bearer {token}"}, timeout=30
    )


def test_sign_up_create_a_team_invite_a_member_who_accepts_on_their_page(console: Console, page):
    # GIVEN Ada signs up in the console (verification link from the mail) and creates her team
    # (the only test of this module's stack to use these names: they read well in docs/screenshots)
    ada, bob, slug = "ada@example.com", "bob@example.com", "acme-works"
    console.sign_up(page, ada, "Ada", "Lovelace")
    expect(page.get_by_role("heading", name="Create your first team")).to_be_visible()
    console.shot(page, "first-team")
    console.create_team(page, "Acme Works", slug)
    expect(page.get_by_text("2 of 8 steps done")).to_be_visible()  # signed up, team created: onboarding goes on
    expect(page.get_by_role("link", name="Add a node and install its agent", exact=True)).to_be_visible()
    console.shot(page, "dashboard", docs="dashboard")

    # WHEN she invites Bob from the team's settings
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Team settings").click()
    expect(page.get_by_role("heading", name="Acme Works: settings")).to_be_visible()
    page.get_by_label("E-mail").fill(bob)
    page.get_by_label("First name").fill("Bob")
    page.get_by_role("button", name="Send invitation").click()
    members = page.get_by_role("table", name="Members")
    expect(members.get_by_role("row").filter(has_text=bob)).to_contain_text("pending")
    expect(page.get_by_text(f"Invitation sent to {bob}.")).to_be_visible()

    # AND Bob signs up with the invited address, in a browser of his own, and opens his profile
    bobs = console.new_page()
    console.sign_up(bobs, bob, "Bob")
    expect(bobs.get_by_text("You are invited to Acme Works")).to_be_visible()
    profile = bobs.get_by_role("navigation", name="Main").get_by_role("link", name="Profile")
    expect(profile).to_contain_text("1 invitation")
    profile.click()
    invitations = bobs.get_by_role("table", name="Invitations")
    expect(invitations).to_contain_text("Acme Works")
    console.shot(bobs, "invitation")
    invitations.get_by_role("button", name="Accept").click()

    # THEN he is a member: the team is his to switch to and its dashboard opens
    expect(bobs.get_by_text("You joined Acme Works.")).to_be_visible()
    expect(bobs.get_by_text("No invitations waiting")).to_be_visible()
    bobs.get_by_label("Team", exact=True).select_option(slug)
    expect(bobs).to_have_url(f"{console.url}/{slug}/dashboard")
    expect(bobs.get_by_role("heading", name="Dashboard")).to_be_visible()

    # AND Ada sees him verified; she makes him an admin
    page.reload()
    bob_row = page.get_by_role("table", name="Members").get_by_role("row").filter(has_text=bob)
    expect(bob_row).to_contain_text("verified")
    bob_row.get_by_label("Role of Bob").select_option("admin")
    expect(page.get_by_text("Bob is now an admin.")).to_be_visible()
    page.reload()
    expect(page.get_by_label("Role of Bob")).to_have_value("admin")
    console.shot(page, "team-settings", docs="team-settings")


def test_a_taken_slug_is_shown_at_the_slug_field(console: Console, page):
    # GIVEN a team whose slug someone else holds
    taken = unique_slug("taken")
    first = console.new_page()
    console.sign_up(first, unique_email("first"), "First")
    console.create_team(first, f"Team {taken}", taken)

    # WHEN another person creates a team with that slug
    console.sign_up(page, unique_email("second"), "Second")
    page.get_by_label("Name", exact=True).fill("Another team")
    page.get_by_label("Slug").fill(taken)
    page.get_by_role("button", name="Create team").click()

    # THEN the API's 409 {message, property: "slug"} is shown at the slug field, which gets focus
    slug = page.get_by_label("Slug")
    expect(slug).to_have_attribute("aria-invalid", "true")
    expect(slug).to_be_focused()
    error = page.locator(".field-invalid .field-error")
    expect(error).to_have_count(1)
    expect(error).to_contain_text("taken")
    expect(page.get_by_label("Name", exact=True)).not_to_have_attribute("aria-invalid", "true")
    console.shot(page, "slug-taken")

    # AND fixing it clears the message and creates the team
    slug.fill(unique_slug("free"))
    expect(error).to_have_count(0)
    page.get_by_role("button", name="Create team").click()
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()


def test_tokens_are_shown_once_listed_paged_and_deleted(console: Console, page):
    # GIVEN a signed-in person on the tokens screen, with none yet
    console.sign_up(page, unique_email("tok"), "Tess")
    page.get_by_role("link", name="Access tokens").click()
    expect(page.get_by_text("No tokens yet")).to_be_visible()

    # WHEN they create one
    page.get_by_label("Name").fill("CI deploy job")
    page.get_by_label("Expires after").select_option("90")
    page.get_by_role("button", name="Create token").click()

    # THEN it is shown once, and it works against the API
    shown = page.get_by_label("The new token")
    expect(shown).to_be_visible()
    token = shown.input_value()
    assert api(console.url, token, "GET", "/api/teams").status_code == 200
    table = page.get_by_role("table", name="Your tokens")
    expect(table).to_contain_text("CI deploy job")
    console.shot(page, "token-created")
    page.reload()
    expect(page.get_by_role("table", name="Your tokens")).to_contain_text("CI deploy job")
    assert token not in page.content()

    # AND a long list pages with take/cursor: 20 a page, Next and Previous
    session = console.token_of(page)
    for i in range(21):
        assert api(console.url, session, "POST", "/api/tokens", {"name": f"bulk {i:02d}", "expirationInDays": 1}).ok
    page.reload()
    table = page.get_by_role("table", name="Your tokens")
    expect(table.locator("tbody tr")).to_have_count(20)
    page.get_by_role("button", name="Next").click()
    expect(page.get_by_text("Page 2")).to_be_visible()
    expect(table.locator("tbody tr")).to_have_count(2)
    expect(page.get_by_role("button", name="Next")).to_be_disabled()
    page.get_by_role("button", name="Previous").click()
    expect(table.locator("tbody tr")).to_have_count(20)

    # AND deleting it (after a confirmation) revokes it at once
    row = table.get_by_role("row").filter(has_text="CI deploy job")
    if not row.count():
        page.get_by_role("button", name="Next").click()
    table.get_by_role("row").filter(has_text="CI deploy job").get_by_role("button", name="Delete").click()
    dialog = page.get_by_role("dialog", name="Delete the token CI deploy job?")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Delete").click()
    expect(page.get_by_text("Token CI deploy job deleted")).to_be_visible()
    expect(page.get_by_role("table", name="Your tokens")).not_to_contain_text("CI deploy job")
    assert api(console.url, token, "GET", "/api/teams").status_code == 401


def test_log_out_ends_the_session_on_the_platform(console: Console, page):
    # GIVEN a signed-in person
    email = unique_email("out")
    console.sign_up(page, email, "Olga")
    token = console.token_of(page)
    assert api(console.url, token, "POST", "/api/users/me").status_code == 200

    # WHEN they log out
    page.get_by_role("button", name="Log out").click()

    # THEN the log-in screen shows, the token stopped working and nothing is remembered
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    assert api(console.url, token, "POST", "/api/users/me").status_code == 401
    assert page.evaluate("localStorage.getItem('dyrector.session')") is None
    page.goto("/profile")
    expect(page).to_have_url(f"{console.url}/login?next=%2Fprofile")

    # AND logging in again returns to where they were going
    page.get_by_label("E-mail").fill(email)
    console.log_in(page, email, navigate=False)
    expect(page).to_have_url(f"{console.url}/profile")


def test_keyboard_only_log_in_and_navigation(console: Console, page):
    # GIVEN an account with a team
    email, slug = unique_email("keys"), unique_slug("keys")
    setup = console.new_page()
    console.sign_up(setup, email, "Kim")
    console.create_team(setup, "Keyboard team", slug)
    setup.context.close()

    # WHEN the person logs in with the keyboard alone (the e-mail field is ready for typing)
    page.goto("/login")
    expect(page.get_by_label("E-mail")).to_be_focused()
    page.keyboard.type(email)
    page.keyboard.press("Tab")
    page.keyboard.type("correct horse battery")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    expect(page.get_by_role("heading", name="Dashboard")).to_be_focused()

    # AND on a fresh load skips the navigation, then opens a screen from it
    page.reload()
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#main")).to_be_focused()
    nodes = page.get_by_role("navigation", name="Main").get_by_role("link", name="Nodes")
    nodes.focus()
    page.keyboard.press("Enter")

    # THEN the new screen's heading has focus and says where the family's API is meanwhile
    expect(page.get_by_role("heading", name="Nodes", exact=True)).to_be_focused()
    expect(page.get_by_text(f"GET /api/{slug}/nodes")).to_be_visible()
    expect(nodes).to_have_attribute("aria-current", "page")
    assert page.title() == "Nodes · dyrector"


def test_a_phone_width_screen_has_a_menu_and_readable_tables(console: Console):
    # GIVEN a person with a team, on a 390 px wide screen
    page = console.new_page(viewport=PHONE)
    console.sign_up(page, unique_email("phone"), "Pia")
    console.create_team(page, "Pocket team", unique_slug("pocket"))

    # THEN the navigation hides behind the menu button, and nothing is wider than the screen
    menu = page.get_by_role("button", name="Menu")
    expect(menu).to_have_attribute("aria-expanded", "false")
    expect(page.get_by_role("navigation", name="Main")).to_be_hidden()
    menu.click()
    expect(page.get_by_role("navigation", name="Main")).to_be_visible()
    page.get_by_role("link", name="Team settings").click()
    expect(page.get_by_role("navigation", name="Main")).to_be_hidden()  # closed by the navigation
    expect(page.get_by_role("table", name="Members")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    console.shot(page, "phone-settings", docs="phone-team-settings")


def test_the_console_seals_a_secret_that_the_node_agent_can_open(console: Console, page):
    # GIVEN a node agent's X25519 key pair and the console's sealing module (libsodium, bundled)
    key = PrivateKey.generate()
    [module] = (ROOT / "web" / "dist" / "assets").glob("seal-*.js")
    page.goto("/login")

    # WHEN the browser seals a value for the agent's public key
    sealed = page.evaluate(
        "async ([url, key]) => (await import(url)).sealForNode(key, 's3cr3t ✓')",
        [f"/assets/{module.name}", base64.b64encode(bytes(key.public_key)).decode()],
    )

    # THEN the agent's private key opens it (the sealed box `python -m cli seal` makes)
    assert SealedBox(key).decrypt(base64.b64decode(sealed)).decode() == "s3cr3t ✓"


def test_make_run_serves_the_console_beside_the_api(console_stack: LocalStack):
    base = console_stack.url
    # The page, fast and locked down: nothing loads from elsewhere, no framing
    began = time.perf_counter()
    home = requests.get(f"{base}/", timeout=10)
    assert home.status_code == 200 and time.perf_counter() - began < 1
    assert home.headers["Content-Type"].startswith("text/html")
    assert "default-src 'self'" in home.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in home.headers["Content-Security-Policy"]
    # A screen's address (a reload, a shared link) gets the same page; its assets are cached for good
    assert requests.get(f"{base}/acme/nodes", timeout=10).text == home.text
    asset = Path(home.text.split('src="', 1)[1].split('"', 1)[0])
    served = requests.get(f"{base}{asset}", timeout=10)
    assert served.status_code == 200 and "immutable" in served.headers["Cache-Control"]
    assert served.headers["Content-Type"].startswith("text/javascript")
    # A missing file is a 404, not the page; the API keeps every path under /api
    assert requests.get(f"{base}/assets/app-GONE.js", timeout=10).status_code == 404
    assert requests.get(f"{base}/api/health", timeout=10).json()["status"]
    unknown = requests.get(f"{base}/api/no/such/route", timeout=10)
    assert 400 <= unknown.status_code < 500 and "message" in unknown.json()
    assert requests.head(f"{base}/teams", timeout=10).status_code == 200


def test_the_first_screen_shows_within_a_second(console: Console, page):
    # GIVEN a fresh browser (nothing cached)  WHEN it opens the console
    page.goto("/")
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    # THEN the log-in screen is there within a second of the navigation's start
    first = page.evaluate("performance.now()")
    assert first < 1000, f"log-in screen after {first:.0f} ms"

    # AND signed in, a reload shows the team's dashboard with its counts within a second too
    console.sign_up(page, unique_email("fast"), "Fay")
    console.create_team(page, "Fast team", unique_slug("fast"))
    page.reload()
    expect(page.get_by_role("list", name="Team counts")).to_be_visible()
    signed_in = page.evaluate("performance.now()")
    assert signed_in < 1000, f"dashboard after {signed_in:.0f} ms"


def test_rename_a_team_decline_and_remove_invitations_and_delete_it(console: Console, page):
    # GIVEN an owner whose team invited two people, one of whom declines on their profile
    slug, new_slug = unique_slug("old"), unique_slug("new")
    carl, dora = unique_email("carl"), unique_email("dora")
    console.sign_up(page, unique_email("owner"), "Olive")
    console.create_team(page, "Old name", slug)
    page.goto(f"/{slug}/settings")
    for email, first in ((carl, "Carl"), (dora, "Dora")):
        page.get_by_label("E-mail").fill(email)
        page.get_by_label("First name").fill(first)
        page.get_by_role("button", name="Send invitation").click()
        expect(page.get_by_text(f"Invitation sent to {email}.")).to_be_visible()
    carls = console.new_page()
    console.sign_up(carls, carl, "Carl")
    carls.goto("/profile")
    carls.get_by_role("table", name="Invitations").get_by_role("button", name="Decline").click()
    carls.get_by_role("dialog").get_by_role("button", name="Decline").click()
    expect(carls.get_by_text("No invitations waiting")).to_be_visible()

    # WHEN the owner renames the team and its slug
    page.reload()
    members = page.get_by_role("table", name="Members")
    expect(members.get_by_role("row").filter(has_text=carl)).to_contain_text("declined")
    page.get_by_label("Name", exact=True).fill("New name")
    page.get_by_label("Slug").fill(new_slug)
    page.get_by_role("button", name="Save").click()

    # THEN the console follows the new slug, and the team switcher shows the new name
    expect(page).to_have_url(f"{console.url}/{new_slug}/settings")
    expect(page.get_by_role("heading", name="New name: settings")).to_be_visible()
    expect(page.get_by_label("Team", exact=True).locator("option:checked")).to_have_text("New name")

    # AND removing Dora's invitation takes her off the list
    dora_row = page.get_by_role("table", name="Members").get_by_role("row").filter(has_text=dora)
    dora_row.get_by_role("button", name="Remove").click()
    page.get_by_role("dialog").get_by_role("button", name="Remove").click()
    expect(page.get_by_role("table", name="Members")).not_to_contain_text(dora)

    # AND deleting the team (confirmed) leaves the owner with no team, on the teams screen
    page.get_by_role("button", name="Delete team").click()
    page.get_by_role("dialog").get_by_role("button", name="Delete for good").click()
    expect(page.get_by_role("heading", name="Create your first team")).to_be_visible()
    page.goto(f"/{new_slug}/dashboard")
    expect(page.get_by_role("heading", name="Not your team")).to_be_visible()
    page.goto("/no/such/screen/here")
    expect(page.get_by_role("heading", name="Not found")).to_be_visible()


def test_a_verify_link_to_the_console_works_and_a_new_password_ends_the_session(console: Console, page):
    # GIVEN a sign-up verified by opening /verify?token=… in the console (the mailed link's token)
    email = unique_email("pw")
    page.goto("/signup")
    page.get_by_label("First name").fill("Pat")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill("correct horse battery")
    page.get_by_role("button", name="Sign up").click()
    expect(page.get_by_role("heading", name="Check your mailbox")).to_be_visible()
    token = console.mail_link(email).split("token=", 1)[1]
    page.goto(f"/verify?token={token}&email={email}")
    expect(page.get_by_text("Your e-mail address is verified")).to_be_visible()
    console.log_in(page, email, navigate=False)
    old_session = console.token_of(page)

    # WHEN they change their password on their profile (a wrong current one is refused at its field)
    page.goto("/profile")
    page.get_by_label("Current password").fill("not my password")
    page.get_by_label("New password").fill("a brand new secret")
    page.get_by_role("button", name="Change password").click()
    expect(page.get_by_label("Current password")).to_have_attribute("aria-invalid", "true")
    page.get_by_label("Current password").fill("correct horse battery")
    page.get_by_role("button", name="Change password").click()

    # THEN every session ended, this one too, and the new password logs in
    expect(page.get_by_text("Your password changed: log in with the new one.")).to_be_visible()
    assert api(console.url, old_session, "POST", "/api/users/me").status_code == 401
    page.get_by_label("Password").fill("a brand new secret")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name="Log out", include_hidden=True)).to_be_attached()
