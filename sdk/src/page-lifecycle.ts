import { enqueue, isLive, type TrackerContext } from './tracker-context.js';

/**
 * Sends what is queued when the page may go away: on `pagehide`, the only event Safari
 * fires reliably on close, and when the page becomes hidden, after which mobile browsers
 * may kill it without any event. No unload listener is added, because it blocks the
 * back/forward cache.
 */
export function watchPageLifecycle(ctx: TrackerContext): () => void {
  const onPageHide = () => leavePage(ctx, true);
  const onVisibility = () => {
    if (document.visibilityState === 'hidden') leavePage(ctx, false);
  };
  const onPageShow = (event: PageTransitionEvent) => {
    // A page restored from the back/forward cache posted `bye` on its pagehide.
    if (!event.persisted) return;
    ctx.tabs.start();
    ctx.idle.check();
    if (isLive(ctx)) enqueue(ctx, 'tab_opened', { tabs: ctx.tabs.count() });
  };

  addEventListener('pagehide', onPageHide);
  addEventListener('pageshow', onPageShow);
  document.addEventListener('visibilitychange', onVisibility);

  return () => {
    removeEventListener('pagehide', onPageHide);
    removeEventListener('pageshow', onPageShow);
    document.removeEventListener('visibilitychange', onVisibility);
  };
}

/** Closes activity windows and sends the queue by beacon; `isClosing` also reports the tab closed. */
export function leavePage(ctx: TrackerContext, isClosing: boolean): void {
  ctx.activity.drain();
  if (isClosing) {
    if (isLive(ctx)) enqueue(ctx, 'tab_closed', { tabs: Math.max(0, ctx.tabs.count() - 1) });
    ctx.tabs.stop();
  }
  ctx.delivery.flushOnExit();
}

/** Detaches everything the tracker attached, except delivery, which `end()` still needs. */
export function detachTracker(ctx: TrackerContext): void {
  ctx.state = 'stopped';
  ctx.isLeader = false;
  ctx.refresh();
  ctx.cleanups.splice(0).forEach((cleanup) => cleanup());
  ctx.activity.stop();
  ctx.idle.stop();
  ctx.channel.close();
}
