/** The pages this process serves (the server writes them into the page's data-pages). */
export function servesPage(page: string): boolean {
  return (document.body.dataset.pages ?? '').split(' ').includes(page);
}
