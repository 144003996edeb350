/** The labels every object carries; selectors use the name + component pair only (immutable in a Deployment). */
export function selectorLabels(component: string): Record<string, string> {
  return { 'app.kubernetes.io/name': 'spillway', 'app.kubernetes.io/component': component };
}

export function labels(component: string): Record<string, string> {
  return {
    ...selectorLabels(component),
    'app.kubernetes.io/part-of': 'spillway',
    'app.kubernetes.io/managed-by': 'spillway-manifests',
  };
}
