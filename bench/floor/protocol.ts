// What the bench and the floor worker process agree on: the task queue and the line the worker prints once it polls.
export const FLOOR_TASK_QUEUE = 'bench-floor';
export const FLOOR_WORKER_READY = 'floor worker polling';
