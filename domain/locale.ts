/** `fr-CA` -> [`fr-CA`, `fr`, default]: the order in which a localised template is looked for. */
export function localeChain(locale: string | null | undefined, defaultLocale = 'en'): string[] {
  const chain: string[] = [];
  if (locale) {
    const parts = locale.replace('_', '-').split('-');
    for (let i = parts.length; i > 0; i--) chain.push(parts.slice(0, i).join('-'));
  }
  if (!chain.includes(defaultLocale)) chain.push(defaultLocale);
  return chain;
}
