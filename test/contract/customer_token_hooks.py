# Schemathesis hooks of the contract test's customer-token run (test/contract.test.ts). The run sends one customer's
# token (HERALD_CONTRACT_CUSTOMER) to the operations a customer token may call and to a sample of the others; this
# check fails any success that is not that customer's own: an operation that takes no customer token, another
# customer's path, or a notification of another customer (asked of the API with the admin key).
import os
import urllib.parse

import requests
import schemathesis
from hypothesis import strategies as st

API = os.environ["HERALD_CONTRACT_API"]
ADMIN_KEY = os.environ["HERALD_CONTRACT_ADMIN_KEY"]
OWN_CUSTOMER = os.environ["HERALD_CONTRACT_CUSTOMER"]
# Ids without '/', which generated path values cannot hold: the customer's own notification and another customer's.
NOTIFICATIONS = [os.environ["HERALD_CONTRACT_OWN_NOTIFICATION"], os.environ["HERALD_CONTRACT_OTHER_NOTIFICATION"]]
SEEN = os.environ["HERALD_CONTRACT_SEEN_FILE"]


@schemathesis.hook
def before_generate_path_parameters(ctx, strategy):
    if ctx.operation is not None and "{notificationId}" in ctx.operation.path:
        return st.sampled_from(NOTIFICATIONS).map(lambda notification_id: {"notificationId": notification_id})
    return strategy


def owner_of(notification_id):
    # The case may hold the id as sent (its '/' already %2F): ids have no '%' of their own.
    encoded = urllib.parse.quote(urllib.parse.unquote(notification_id), safe="")
    res = requests.get(f"{API}/v1/notifications/{encoded}", headers={"authorization": f"Bearer {ADMIN_KEY}"}, timeout=30)
    return res.json().get("customerId") if res.status_code == 200 else f"nobody (GET answered {res.status_code})"


@schemathesis.check
def only_the_tokens_own_customer(ctx, response, case):
    """A customer token gets a success only from an operation that takes one, for its own customer."""
    # Only the operation's own method: the probes of other methods (OPTIONS answers Allow to anyone) are other checks'.
    if not 200 <= response.status_code < 300 or case.method.upper() != case.operation.method.upper():
        return None
    label = f"{case.method.upper()} {case.formatted_path}"
    if not case.operation.definition.raw.get("x-customer-token"):
        raise AssertionError(f"{label} answered {response.status_code} to a customer token, which it does not take")
    params = case.path_parameters or {}
    customer = params.get("customerId")
    if customer is not None and customer != OWN_CUSTOMER:
        raise AssertionError(f"{label} answered {response.status_code} to {OWN_CUSTOMER}'s token for customer {customer}")
    notification = params.get("notificationId")
    owner = owner_of(notification) if notification is not None else OWN_CUSTOMER
    if owner != OWN_CUSTOMER:
        raise AssertionError(f"{label} answered {response.status_code} to {OWN_CUSTOMER}'s token for a notification of {owner}")
    # What the check let through, for the test to see that it met the token's own successes at all.
    with open(SEEN, "a", encoding="utf-8") as seen:
        seen.write(f"{case.method.upper()} {case.operation.path}\n")
    return True
