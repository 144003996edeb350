/**
 * How many watches use each view of each service's ClusterLoadAssignment: by name, and by
 * wildcard (a wildcard watch uses its view of every service). The view cache keeps an encoded
 * assignment only while its view is in use, so views of clients that left do not pile up.
 */
export class ViewUse {
  private readonly byService = new Map<string, Map<string, number>>();
  private readonly wildcards = new Map<string, number>();

  retain(service: string, view: string): void {
    let views = this.byService.get(service);
    if (!views) {
      views = new Map();
      this.byService.set(service, views);
    }
    views.set(view, (views.get(view) ?? 0) + 1);
  }

  /** Returns whether `view` of `service` is no longer used at all. */
  release(service: string, view: string): boolean {
    const views = this.byService.get(service);
    const count = views?.get(view) ?? 0;
    if (count <= 1) {
      views?.delete(view);
      if (views?.size === 0) this.byService.delete(service);
    } else views?.set(view, count - 1);
    return !this.inUse(service, view);
  }

  retainWildcard(view: string): void {
    this.wildcards.set(view, (this.wildcards.get(view) ?? 0) + 1);
  }

  /** Returns whether no wildcard watch uses `view` any more. */
  releaseWildcard(view: string): boolean {
    const count = this.wildcards.get(view) ?? 0;
    if (count <= 1) this.wildcards.delete(view);
    else this.wildcards.set(view, count - 1);
    return !this.wildcards.has(view);
  }

  inUse(service: string, view: string): boolean {
    return this.wildcards.has(view) || (this.byService.get(service)?.has(view) ?? false);
  }
}
