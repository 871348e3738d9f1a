// Minting customer tokens (api/customer-tokens.ts): the shop's backend, with a server key, asks for a token bound to the
// signed-in customer and hands it to that customer's app or browser, which never holds a server key.
import { CUSTOMER_TOKEN_SECRET, mintCustomerToken } from '../customer-tokens';
import { HttpError } from '../errors';
import { customerTokenResponse } from '../response-schemas';
import { defineRoute, type Route } from '../route';
import { customerPath, customerTokenSchema } from '../schemas';

export const customerTokenRoutes: Route[] = [
  defineRoute({
    method: 'post',
    path: '/v1/customers/{customerId}/tokens',
    operationId: 'createCustomerToken',
    tag: 'Customer tokens',
    summary: "Mint a short-lived token for one customer's app",
    description:
      "For the customer's app or browser, which must never hold a server key. With `Authorization: Bearer <token>` it may register, " +
      'list and remove its own devices, read and mark its own inbox and open its stream (there also as `?access_token=<token>`, ' +
      "for a browser's EventSource), post receipts for its own notifications, and read and set its own preferences: nothing else, " +
      'and nothing of another customer (403). The token is signed with the first key of `HERALD_CUSTOMER_TOKEN_SECRET` and checked ' +
      'without the database; it cannot be revoked, so keep it short-lived and mint another before `expiresAt`.',
    scope: 'tokens',
    // The backend mints one per app session, at the rate customers open the app: intake's larger budget.
    budget: 'intake',
    params: customerPath,
    body: customerTokenSchema,
    responses: { 201: { description: 'The token.', body: customerTokenResponse } },
    errors: { 503: `\`${CUSTOMER_TOKEN_SECRET}\` is not set on this API: it mints no customer tokens.` },
    handler: ({ params: { customerId }, body: { ttlSeconds } }, { customerTokens }) => {
      const keys = customerTokens?.keys ?? [];
      if (keys.length === 0) throw new HttpError(503, 'not_configured', `customer tokens are off: set ${CUSTOMER_TOKEN_SECRET} to mint them`);
      const { token, keyId, expiresAt } = mintCustomerToken(keys, customerId, ttlSeconds);
      return { status: 201, body: { token, customerId, keyId, expiresAt } };
    },
  }),
];
