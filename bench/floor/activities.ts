// The floor's one side effect: a POST of the event to the bench's HTTP sink (bench/floor/sink.ts), standing in for a provider.

export interface FloorEvent {
  orderId: string;
  status: string;
}

export interface FloorActivities {
  notifyCustomer(event: FloorEvent): Promise<void>;
}

export function createFloorActivities(sinkUrl: string): FloorActivities {
  return {
    async notifyCustomer(event) {
      const res = await fetch(sinkUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(event) });
      await res.arrayBuffer();
      if (!res.ok) throw new Error(`the sink answered ${res.status}`);
    },
  };
}
