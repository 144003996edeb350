/** A share (0..1) as a percentage. */
export function percent(share: number | null | undefined): string {
  return typeof share === 'number' ? `${(share * 100).toFixed(share * 100 < 10 ? 1 : 0)}%` : '–';
}

/** An ISO time as local HH:MM:SS (the full time is in the element's title). */
export function clock(iso: string | null | undefined): string {
  if (!iso) return '–';
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleTimeString();
}
