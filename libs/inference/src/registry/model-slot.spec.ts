import { describe, expect, it, vi } from 'vitest';
import type { LoadedModel } from './loaded-model';
import { ModelSlot } from './model-slot';

vi.mock('../manifest/manifest-loader', () => ({
  readManifest: () => Promise.resolve({ name: 'food', version: '1' }),
}));

/** A loaded model whose workers are idle; `close` records when the slot releases it. */
function fakeModel(version: string): LoadedModel & { close: ReturnType<typeof vi.fn> } {
  const close = vi.fn(() => Promise.resolve());
  return {
    resolved: { manifest: { name: 'food', version } },
    inference: { stats: () => ({ running: 0, queued: 0 }), close },
    leases: 0,
    close,
  } as unknown as LoadedModel & { close: ReturnType<typeof vi.fn> };
}

const quiet = { log: () => undefined, error: () => undefined, warn: () => undefined };

describe('ModelSlot swapping versions', () => {
  it('keeps a swapped-out model loaded while a request still holds it, and releases it once none does', async () => {
    const first = fakeModel('1');
    const second = fakeModel('2');
    const start = vi.fn().mockResolvedValueOnce(first).mockResolvedValueOnce(second);
    const slot = new ModelSlot('food', { manifestPath: '/models/food/manifest.json' }, start, quiet, 5_000);
    await slot.load();
    first.leases = 1; // a batch that started on version 1
    await slot.reload();
    expect(slot.modelState).toMatchObject({ status: 'ready', model: second });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(first.close).not.toHaveBeenCalled();
    first.leases = 0; // the batch answered its last item
    await vi.waitFor(() => expect(first.close).toHaveBeenCalledOnce());
    expect(second.close).not.toHaveBeenCalled();
  });

  it('releases a swapped-out model nobody holds at once', async () => {
    const first = fakeModel('1');
    const start = vi.fn().mockResolvedValueOnce(first).mockResolvedValueOnce(fakeModel('2'));
    const slot = new ModelSlot('food', { manifestPath: '/models/food/manifest.json' }, start, quiet, 5_000);
    await slot.load();
    await slot.reload();
    await vi.waitFor(() => expect(first.close).toHaveBeenCalledOnce());
  });
});
