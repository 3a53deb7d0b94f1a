"""The team's notifications, storages and audit log in a real browser (headless Chromium) on
`make run`'s stack: create, edit and delete each, an API refusal shown at its field, the test
message of a notification reaching a receiver on loopback (the stack allows loopback webhooks,
as `make run` does; nothing leaves the machine), a storage's keys never shown back and its
in-use refusal, and the audit log's paging and filters at a desktop's and a phone's width."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from tests.browser.conftest import PHONE, Console, unique_email, unique_slug
from tests.fixtures.local_stack import HttpApi

pytestmark = pytest.mark.browser

ACCESS, SECRET = "AKIABROWSERACCESS", "browser/Secret+Key/never-shown"


def expect(target):
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(target)


def signed_up_with_team(console: Console, page, name: str) -> tuple[str, HttpApi, str]:
    """A new person with a team, signed in on `page`: the team's slug, the API as them, their e-mail."""
    slug, email = unique_slug(name[:4].lower()), unique_email(name.lower())
    console.sign_up(page, email, name)
    console.create_team(page, f"{name}'s team", slug)
    api = HttpApi(console.url)
    api.token = console.token_of(page)
    return slug, api, email


def open_from_navigation(page, label: str) -> None:
    page.get_by_role("navigation", name="Main").get_by_role("link", name=label).click()
    expect(page.get_by_role("heading", name=label, exact=True)).to_be_focused()


def test_a_refused_webhook_url_is_shown_at_its_field_and_the_test_button_reaches_the_receiver(
    console: Console, page, receiver
):
    # GIVEN a team without notifications
    slug, api, _ = signed_up_with_team(console, page, "Nora")
    open_from_navigation(page, "Notifications")
    expect(page.get_by_text("No notifications yet")).to_be_visible()

    # WHEN a notification is added with an address the platform may not post to (cloud metadata)
    page.get_by_role("main").get_by_role("link", name="Add a notification").first.click()
    expect(page.get_by_label("Name")).to_be_focused()
    page.get_by_label("Name").fill("Deploy news")
    page.get_by_label("Type").select_option("slack")
    page.get_by_label("Webhook URL").fill("http://169.254.169.254/latest/meta-data")
    page.get_by_label("New versions").check()
    page.get_by_role("button", name="Create notification").click()

    # THEN the API's refusal is shown at the URL field, which gets focus
    url = page.get_by_label("Webhook URL")
    expect(url).to_have_attribute("aria-invalid", "true")
    expect(url).to_be_focused()
    expect(page.locator(".field-invalid .field-error")).to_have_text("The platform may not send to this address.")
    console.shot(page, "notification-refused-url")

    # AND with the receiver's address it is created as filled in, and its screen opens
    url.fill(f"{receiver.url}/slack")
    page.get_by_role("button", name="Create notification").click()
    expect(page.get_by_role("heading", name="Deploy news")).to_be_visible()
    [created] = api.call("GET", f"/api/{slug}/notifications", expect=200).json()
    details = api.call("GET", f"/api/{slug}/notifications/{created['id']}", expect=200).json()
    assert (details["type"], details["active"]) == ("slack", True)
    assert details["enabledEvents"] == ["deployment-created", "version-created"]

    # WHEN the test button is pressed (with the keyboard)
    test_button = page.get_by_role("button", name="Send a test message")
    test_button.focus()
    page.keyboard.press("Enter")

    # THEN the receiver got Slack's format and the screen says it was delivered
    expect(page.get_by_role("status").filter(has_text="Test message delivered")).to_contain_text("127.0.0.1")
    [message] = receiver.bodies("/slack")
    assert "this notification works" in message["blocks"][0]["elements"][0]["text"]
    console.shot(page, "notification-tested", docs="notifications")

    # AND when the receiver fails, the API's refusal is shown instead
    receiver.status["/slack"] = 500
    test_button.click()
    expect(page.get_by_role("alert").filter(has_text="The test message was not delivered")).to_be_visible()
    assert len(receiver.bodies("/slack")) == 2


def test_a_notification_is_changed_listed_and_deleted(console: Console, page, receiver):
    # GIVEN a team with an active Slack notification about new versions
    slug, api, _ = signed_up_with_team(console, page, "Ned")
    hook = {"type": "slack", "name": "Deploy news", "url": f"{receiver.url}/hook", "active": True}
    events = {"enabledEvents": ["version-created"]}
    created = api.call("POST", f"/api/{slug}/notifications", {**hook, **events}, expect=201).json()
    page.goto(f"/{slug}/notifications/{created['id']}")

    # WHEN it is renamed, made a Discord one, paused, told about invitations instead (the keyboard saves)
    page.get_by_label("Name").fill("Team news")
    page.get_by_label("Type").select_option("discord")
    page.get_by_label("New versions").uncheck()
    page.get_by_label("Members invited").focus()
    page.keyboard.press("Space")
    page.get_by_label("Active").uncheck()
    page.get_by_label("Name").press("Enter")

    # THEN it is saved as shown, and a reload shows the same
    expect(page.get_by_text("Notification Team news saved.")).to_be_visible()
    expect(page.get_by_role("heading", name="Team news")).to_be_visible()
    saved = api.call("GET", f"/api/{slug}/notifications/{created['id']}", expect=200).json()
    assert (saved["name"], saved["type"], saved["active"]) == ("Team news", "discord", False)
    assert saved["enabledEvents"] == ["user-invited"]
    page.reload()
    expect(page.get_by_label("Active")).not_to_be_checked()
    expect(page.get_by_label("Members invited")).to_be_checked()
    expect(page.get_by_label("Type")).to_have_value("discord")

    # AND the list shows it, at a phone's width too; deleting it (confirmed) empties the list
    page.get_by_role("link", name="All notifications").click()
    page.set_viewport_size(PHONE)
    row = page.get_by_role("table", name="Notifications").get_by_role("row").filter(has_text="Team news")
    expect(row).to_contain_text("Discord")
    expect(row).to_contain_text("inactive")
    expect(row).to_contain_text("127.0.0.1")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    console.shot(page, "phone-notifications")
    row.get_by_role("button", name="Delete").click()
    page.get_by_role("dialog", name="Delete the notification Team news?").get_by_role("button", name="Delete").click()
    expect(page.get_by_text("Notification Team news deleted.")).to_be_visible()
    expect(page.get_by_text("No notifications yet")).to_be_visible()
    assert api.call("GET", f"/api/{slug}/notifications", expect=200).json() == []
    assert receiver.posts == []  # changing a notification sends nothing


def test_a_storage_is_created_refused_a_taken_name_and_changed_without_showing_its_keys(console: Console, page):
    # GIVEN a team without storages
    slug, api, _ = signed_up_with_team(console, page, "Sam")
    open_from_navigation(page, "Storages")
    expect(page.get_by_text("No storages yet")).to_be_visible()

    # WHEN a private storage is added THEN it is listed
    page.get_by_role("main").get_by_role("link", name="Add a storage").first.click()
    page.get_by_label("Name").fill("Assets")
    page.get_by_label("Endpoint URL").fill("https://s3.example.com")
    page.get_by_label("Description").fill("Files the web server starts with")
    page.get_by_label("Access key").fill(ACCESS)
    page.get_by_label("Secret key").fill(SECRET)
    page.get_by_role("button", name="Create storage").click()
    table = page.get_by_role("table", name="Storages")
    expect(table.get_by_role("row").filter(has_text="Assets")).to_contain_text("https://s3.example.com")

    # WHEN a second one takes the same name THEN the API's 409 is shown at the name field
    page.get_by_role("link", name="Add a storage").click()
    page.get_by_label("Name").fill("assets")
    page.get_by_label("Endpoint URL").fill("https://minio.example.com")
    page.get_by_role("button", name="Create storage").click()
    name = page.get_by_label("Name")
    expect(name).to_have_attribute("aria-invalid", "true")
    expect(name).to_be_focused()
    expect(page.locator(".field-invalid .field-error")).to_contain_text("taken")
    page.get_by_role("link", name="Cancel").click()

    # WHEN it is opened: the keys are stored but never shown, not even the access key the API returns
    table.get_by_role("link", name="Assets").click()
    expect(page.get_by_text("Private: keys stored")).to_be_visible()
    expect(page.get_by_label("Access key")).to_have_value("")
    expect(page.get_by_label("Secret key")).to_have_value("")
    assert ACCESS not in page.content() and SECRET not in page.content()

    # AND it is changed without typing keys
    page.get_by_label("Endpoint URL").fill("https://minio.example.com:9000")
    page.get_by_label("Description").fill("")
    page.get_by_role("button", name="Save").click()

    # THEN the change is saved and the stored keys kept
    expect(page.get_by_text("Storage Assets saved.")).to_be_visible()
    [listed] = api.call("GET", f"/api/{slug}/storages", expect=200).json()
    stored = api.call("GET", f"/api/{slug}/storages/{listed['id']}", expect=200).json()
    assert (stored["url"], stored["description"], stored["accessKey"]) == (
        "https://minio.example.com:9000",
        None,
        ACCESS,
    )
    console.shot(page, "storage-details")
    page.set_viewport_size(PHONE)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    console.shot(page, "phone-storage-details")


def test_a_storage_in_use_is_refused_deletion_then_made_public_and_deleted(console: Console, page):
    # GIVEN a private storage that an image's container config imports from
    slug, api, _ = signed_up_with_team(console, page, "Stu")
    storage_body = {"name": "Assets", "url": "https://s3.example.com", "accessKey": ACCESS, "secretKey": SECRET}
    storage = api.call("POST", f"/api/{slug}/storages", storage_body, expect=201).json()
    registry = api.call(
        "POST",
        f"/api/{slug}/registries",
        {"type": "unchecked", "name": "local", "details": {"local": True}},
        expect=201,
    ).json()
    project = api.call("POST", f"/api/{slug}/projects", {"type": "versionless", "name": "site"}, expect=201).json()
    version = api.call("GET", f"/api/{slug}/projects/{project['id']}", expect=200).json()["versions"][0]
    images = f"/api/{slug}/projects/{project['id']}/versions/{version['id']}/images"
    [image] = api.call("POST", images, [{"registryId": registry["id"], "images": ["busybox"]}], expect=201).json()
    uses = {"config": {"storage": {"storageId": storage["id"], "bucket": "site", "path": "files"}}}
    api.call("PATCH", f"{images}/{image['id']}", uses, expect=204)

    # WHEN its deletion is asked on its screen
    page.goto(f"/{slug}/storages/{storage['id']}")
    expect(page.get_by_text("used by container configs")).to_be_visible()
    page.get_by_role("button", name="Delete").click()
    dialog = page.get_by_role("dialog", name="Delete the storage Assets?")
    dialog.get_by_role("button", name="Delete").click()

    # THEN the API's refusal is shown in the dialog and the storage stays
    expect(dialog.get_by_role("alert")).to_have_text("The storage is used by container configs.")
    console.shot(page, "storage-in-use")
    dialog.get_by_role("button", name="Cancel").click()
    api.call("GET", f"/api/{slug}/storages/{storage['id']}", expect=200)

    # WHEN the config lets go of it, its keys are dropped (a public bucket) and it is deleted from the list
    api.call("DELETE", f"{images}/{image['id']}", expect=204)
    page.reload()
    page.get_by_label("Remove the stored keys: the bucket is public").check()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Public: no keys")).to_be_visible()
    assert api.call("GET", f"/api/{slug}/storages/{storage['id']}", expect=200).json()["accessKey"] is None
    page.get_by_role("link", name="All storages").click()
    page.get_by_role("table", name="Storages").get_by_role("button", name="Delete").click()
    page.get_by_role("dialog", name="Delete the storage Assets?").get_by_role("button", name="Delete").click()

    # THEN the list is empty again
    expect(page.get_by_text("Storage Assets deleted.")).to_be_visible()
    expect(page.get_by_text("No storages yet")).to_be_visible()


def add_audit_entries(api: HttpApi, slug: str, each: int) -> None:
    """`each` notifications and `each` storages: two audit entries a round."""
    for i in range(each):
        hook = {"type": "webhook", "name": f"hook {i:02d}", "url": "https://chat.example.com/hook"}
        api.call("POST", f"/api/{slug}/notifications", hook, expect=201)
        bucket = {"name": f"bucket {i:02d}", "url": "https://s3.example.com"}
        api.call("POST", f"/api/{slug}/storages", bucket, expect=201)


def test_the_audit_log_pages_and_filters_by_text(console: Console, page):
    # GIVEN a team with 25 audit entries: its creation, 12 notifications and 12 storages
    slug, api, _ = signed_up_with_team(console, page, "Audrey")
    add_audit_entries(api, slug, 12)

    # WHEN the audit log is opened THEN it shows the total and the newest 20, paged by Next/Previous
    open_from_navigation(page, "Audit log")
    expect(page.get_by_text("25 entries.")).to_be_visible()
    rows = page.get_by_role("table", name="Audit log").locator("tbody tr")
    expect(rows).to_have_count(20)
    expect(rows.first).to_contain_text(f"/api/{slug}/storages")
    expect(rows.first).to_contain_text("Audrey")
    console.shot(page, "audit-log")
    page.get_by_role("button", name="Next").click()
    expect(page.get_by_text("Page 2")).to_be_visible()
    expect(rows).to_have_count(5)
    expect(rows.last).to_contain_text("/api/teams")
    expect(page.get_by_role("button", name="Next")).to_be_disabled()
    page.get_by_role("button", name="Previous").click()
    expect(rows).to_have_count(20)

    # AND a request body opens on demand
    rows.first.get_by_text("Request body: name, url").click()
    expect(rows.first.locator("pre")).to_contain_text('"name": "bucket 11"')

    # WHEN filtered by text THEN only matching entries show, on one page, and the address keeps the filter
    page.get_by_label("Contains").fill("storages")
    page.get_by_label("Contains").press("Enter")
    expect(page).to_have_url(f"{console.url}/{slug}/audit-log?filter=storages")
    expect(page.get_by_text("12 entries match the filters.")).to_be_visible()
    expect(rows).to_have_count(12)
    for row in rows.all():
        expect(row).to_contain_text("storages")
    expect(page.get_by_role("navigation", name="Pages")).to_have_count(0)
    page.reload()
    expect(page.get_by_label("Contains")).to_have_value("storages")
    expect(page.get_by_text("12 entries match the filters.")).to_be_visible()


def test_the_audit_log_filters_by_dates_and_reads_at_a_phones_width(console: Console, page):
    # GIVEN a team with 7 audit entries: its creation, 3 notifications and 3 storages
    slug, api, email = signed_up_with_team(console, page, "Dana")
    add_audit_entries(api, slug, 3)
    page.goto(f"/{slug}/audit-log")
    expect(page.get_by_text("7 entries.")).to_be_visible()

    # WHEN filtered by a range after today THEN nothing matches
    today, later = date.today(), date.today() + timedelta(days=3)
    page.get_by_label("From").fill(later.isoformat())
    page.get_by_role("button", name="Apply filters").click()
    expect(page.get_by_text("Nothing matches these filters")).to_be_visible()

    # AND a range around today holds them all
    page.get_by_label("From").fill((today - timedelta(days=1)).isoformat())
    page.get_by_label("To").fill((today + timedelta(days=1)).isoformat())
    page.get_by_role("button", name="Apply filters").click()
    expect(page.get_by_text("7 entries match the filters.")).to_be_visible()

    # AND a range the API refuses shows its message, without a count
    page.get_by_label("From").fill(later.isoformat())
    page.get_by_label("To").fill(today.isoformat())
    page.get_by_role("button", name="Apply filters").click()
    expect(page.get_by_role("main").get_by_role("alert")).to_contain_text("'from' must not be after 'to'")
    expect(page.get_by_text("match the filters")).to_have_count(0)

    # AND clearing the filters shows everything again
    page.get_by_role("main").get_by_role("link", name="Clear filters").click()
    expect(page).to_have_url(f"{console.url}/{slug}/audit-log")
    expect(page.get_by_text("7 entries.")).to_be_visible()

    # WHEN read at a phone's width THEN the entries are cards, nothing wider than the screen
    phone = console.new_page(viewport=PHONE)
    console.log_in(phone, email)
    phone.goto(f"/{slug}/audit-log")
    cards = phone.get_by_role("table", name="Audit log").locator("tbody tr")
    expect(cards).to_have_count(7)
    cards.first.get_by_text("Request body").click()
    expect(cards.first.locator("pre")).to_be_visible()
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    console.shot(phone, "phone-audit-log")
