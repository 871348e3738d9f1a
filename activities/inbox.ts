// The in-app inbox activity: checks what the workflow asks for and adds the message through store/inbox.ts.
import { ApplicationFailure } from '@temporalio/activity';
import { CATEGORIES } from '../domain';
import type { Db } from '../lib/db';
import { addInboxMessage, InboxCustomerMissing, type AddedInboxMessage, type NewInboxMessage } from '../store/inbox';

export type AddToInboxInput = NewInboxMessage;
export type AddToInboxResult = AddedInboxMessage;

export function createInboxActivities(db: Db) {
  return {
    async addToInbox(input: AddToInboxInput): Promise<AddToInboxResult> {
      if (!(CATEGORIES as readonly string[]).includes(input.category)) {
        throw ApplicationFailure.nonRetryable(`unknown inbox category '${input.category}'`, 'InvalidInboxMessage');
      }
      try {
        return await addInboxMessage(db, input);
      } catch (err) {
        // Retrying cannot make the customer exist; the workflow decides what an unknown customer means.
        if (err instanceof InboxCustomerMissing) throw ApplicationFailure.nonRetryable(err.message, 'CustomerNotFound');
        throw err;
      }
    },
  };
}

export type InboxActivities = ReturnType<typeof createInboxActivities>;
