// A portal's home page as text: the theme of the month, the latest resources with their
// themes, the upcoming events. Every type comes from the gateway's schema.graphql
// (`npm run codegen`), so a field renamed or removed there fails `npm run check`.
//
//   node dist/portal.js http://127.0.0.1:8000/graphql
import { graphql } from "./gql/index.js";
import type { PortalHomeQuery } from "./gql/graphql.js";
import { execute } from "./client.js";

export const PortalHome = graphql(`
  query PortalHome($resources: Int!, $events: Int!, $from: DateTime!) {
    currentTheme {
      title
      month
    }
    nextTheme {
      title
    }
    resources(first: $resources, order: NEWEST) {
      edges {
        node {
          title
          kindLabel
          publishedAt
          themes {
            title
          }
        }
      }
    }
    events(first: $events, order: STARTS_AT, filter: { from: $from }) {
      edges {
        node {
          title
          startsAt
          city
          online
          formatLabel
        }
      }
    }
  }
`);

const day = new Intl.DateTimeFormat("fr-FR", { dateStyle: "long", timeZone: "Europe/Paris" });

export function summarise(home: PortalHomeQuery): string {
  const lines: string[] = [];
  lines.push(`Thématique du mois : ${home.currentTheme?.title ?? "aucune"}`);
  if (home.nextTheme) lines.push(`Thématique à venir : ${home.nextTheme.title}`);
  lines.push("", "Dernières ressources :");
  for (const { node } of home.resources.edges) {
    const themes = node.themes.map((theme) => theme.title).join(", ") || "sans thématique";
    lines.push(`- ${node.title} (${node.kindLabel}) — ${themes}`);
  }
  lines.push("", "Agenda :");
  for (const { node } of home.events.edges) {
    const where = node.online ? "en ligne" : (node.city ?? "lieu à préciser");
    lines.push(`- ${day.format(new Date(node.startsAt))} : ${node.title} (${node.formatLabel}, ${where})`);
  }
  return lines.join("\n");
}

const endpoint = process.argv[2] ?? "http://127.0.0.1:8000/graphql";
const home = await execute(endpoint, PortalHome, {
  resources: 5,
  events: 5,
  from: new Date().toISOString(),
});
console.log(summarise(home));
