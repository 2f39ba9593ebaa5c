// The one function a portal needs: POST a typed document, get its typed data back.
import type { TypedDocumentString } from "./gql/graphql.js";

interface GraphQLResponse<T> {
  data?: T | null;
  errors?: { message: string; extensions?: { code?: string } }[];
}

export async function execute<TResult, TVariables>(
  endpoint: string,
  document: TypedDocumentString<TResult, TVariables>,
  variables: TVariables,
): Promise<TResult> {
  const response = await fetch(endpoint, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/graphql-response+json" },
    body: JSON.stringify({ query: document.toString(), variables }),
  });
  const body = (await response.json()) as GraphQLResponse<TResult>;
  if (body.errors?.length || !body.data) {
    const reasons = (body.errors ?? []).map((e) => `${e.extensions?.code ?? "ERROR"}: ${e.message}`);
    throw new Error(`GraphQL request failed (HTTP ${response.status}): ${reasons.join("; ")}`);
  }
  return body.data;
}
