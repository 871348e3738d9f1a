// The first commands to try against a running stack: `npm start` prints them with its real key and address, and the
// README's Quickstart shows them with the key and port resolved in the shell (test/quickstart.test.ts runs those).

/** The quickstart's order: out for delivery, so a push (with its receipt) and the inbox go, and SMS only without a receipt. */
export const QUICKSTART_ORDER = 'o-1';

export interface QuickstartValues {
  /** Shell text that is, or yields, the admin key, e.g. `hk_...` or `$(npm run -s admin-key)`. */
  key: string;
  /** Shell text for the API's address, e.g. `http://127.0.0.1:3000` or `http://127.0.0.1:${PORT:-3000}`. */
  api: string;
}

/** The shell lines of the quickstart: a customer with a phone, an email address and an iPhone; one order event. */
export function quickstartCommands({ key, api }: QuickstartValues): string[] {
  const token = 'ab'.repeat(32);
  return [
    `KEY=${key}; API=${api}`,
    `H="Authorization: Bearer $KEY"; J='content-type: application/json'`,
    `curl -fsS -w '\\n' -XPUT  -H "$H" -H "$J" $API/v1/customers/c-1 -d '{"name":"Ada","email":"ada@example.com","phone":"+15555550100","locale":"en"}'`,
    `curl -fsS -w '\\n' -XPOST -H "$H" -H "$J" $API/v1/customers/c-1/devices -d '{"deviceId":"iphone-1","platform":"ios","token":"${token}"}'`,
    `curl -fsS -w '\\n' -XPOST -H "$H" -H "$J" $API/v1/order-events -d '{"eventId":"ev-1","orderId":"${QUICKSTART_ORDER}","customerId":"c-1","status":"out_for_delivery","occurredAt":"2026-12-01T10:00:00Z","source":"oms","data":{}}'`,
  ];
}

/** Where to look once the event is in. */
export function quickstartLooks({ apiUrl, uiUrl, namespace }: { apiUrl: string; uiUrl: string | null; namespace: string }): string[] {
  const workflowId = `order:${QUICKSTART_ORDER}`;
  return [
    `curl -fsS -w '\\n' -H "$H" $API/v1/orders/${QUICKSTART_ORDER}/notifications   # the push, delivered a second later (sandbox receipt)`,
    `curl -fsS -w '\\n' -H "$H" $API/v1/orders/${QUICKSTART_ORDER}/state           # the workflow's view: plan, deliveries, escalation`,
    `${apiUrl}/dashboard   (in a browser; paste the key)`,
    ...(uiUrl ? [`${temporalRunsUrl(uiUrl, namespace, workflowId)}   (the order's workflow run in the Temporal Web UI)`] : []),
  ];
}

/** The Web UI's list of one workflow id's runs (the newest first; click it for its history). */
export function temporalRunsUrl(uiUrl: string, namespace: string, workflowId: string): string {
  return `${uiUrl}/namespaces/${encodeURIComponent(namespace)}/workflows?query=${encodeURIComponent(`WorkflowId="${workflowId}"`)}`;
}
