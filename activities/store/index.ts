// Only so that activities/notifications.ts (being rewritten on another branch) still resolves './store'; a folder
// rather than activities/store.ts, so git sees that file renamed to store/notifications.ts and merges follow it.
// Delete this once notifications.ts imports '../store/notifications'.
export * from '../../store/notifications';
