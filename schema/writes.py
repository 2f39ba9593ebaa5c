"""The shared writes of a content type as GraphQL mutations: ``create<Type>``,
``update<Type>`` and ``delete<Type>``, thin resolvers over the services' one
create/update/delete skeleton (:mod:`services.editing`).

A domain declares them with one call to :func:`content_mutations` in its
``mutations.py``; what varies from one type to the next is read from its declaration
(:class:`services.registry.ContentType`: its fields, whether writes are compare-and-set
on a ``version``) or given (the descriptions). Mutations of its own (the contribution
workflow of resources…) stay in a class of the domain.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Annotated, Any

import strawberry

from schema import registry
from schema.arguments import Version
from schema.inputs import content_inputs, given_fields
from schema.payloads import DeletePayload, payload_mutation
from schema.relay import decode_id
from services.editing import create_content, delete_content, update_content
from services.registry import ContentType


@dataclass(frozen=True)
class Descriptions:
    """What the schema says of each mutation, and of the type in its arguments."""

    a: str
    """The type with an indefinite article (« a concept »), for the inputs."""
    the: str
    """The type with the definite article (« the concept »), for the ``id`` argument."""
    create: str
    update: str
    delete: str


@dataclass(frozen=True)
class ContentMutations:
    """What :func:`content_mutations` made: the root class, registered, and its inputs."""

    mutations: type
    create_input: type
    update_input: type


def content_mutations(
    content: ContentType, type_: Any, descriptions: Descriptions
) -> ContentMutations:
    """``create<Type>``, ``update<Type>`` and ``delete<Type>`` of ``content``, answering
    ``type_`` (its Strawberry type, made from a row by ``from_model``) in
    ``Create<Type>Payload`` and ``Update<Type>Payload``, and ``DeletePayload``; ``version``
    is an argument of the update and the delete when ``content`` is versioned. The class
    is registered as one of ``Mutation``'s (``<Type>ContentMutations``)."""
    name = content.name
    snake = registry.snake_name(name)
    create_input, update_input = content_inputs(content, descriptions.a)
    create_payload, update_payload = registry.payloads(type_)
    id_argument = Annotated[
        strawberry.ID, strawberry.argument(description=f"ID of {descriptions.the}.")
    ]
    created = Annotated[create_input, strawberry.argument(description="Its fields.")]
    changed = Annotated[update_input, strawberry.argument(description="Fields to change.")]

    async def create(self: Any, info: strawberry.Info, input: Any) -> Any:
        row = await create_content(info.context.viewer, content, given_fields(input, content))
        return type_.from_model(row)

    async def update(
        self: Any, info: strawberry.Info, id: strawberry.ID, input: Any, version: Any = None
    ) -> Any:
        row = await update_content(
            info.context.viewer,
            content,
            decode_id(id, name),
            version=version,
            given=given_fields(input, content),
        )
        return type_.from_model(row)

    async def delete(
        self: Any, info: strawberry.Info, id: strawberry.ID, version: Any = None
    ) -> strawberry.ID:
        await delete_content(info.context.viewer, content, decode_id(id, name), version=version)
        return id

    versioned = {"version": Version} if content.versioned else {}
    _arguments(create, info=strawberry.Info, input=created)
    _arguments(update, info=strawberry.Info, id=id_argument, **versioned, input=changed)
    _arguments(delete, info=strawberry.Info, id=id_argument, **versioned)
    namespace = {
        f"create_{snake}": payload_mutation(create_payload, description=descriptions.create)(
            create
        ),
        f"update_{snake}": payload_mutation(update_payload, description=descriptions.update)(
            update
        ),
        f"delete_{snake}": payload_mutation(DeletePayload, description=descriptions.delete)(delete),
        "__module__": type_.__module__.replace(".types", ".mutations"),
    }
    mutations = registry.mutation(strawberry.type(type(f"{name}ContentMutations", (), namespace)))
    return ContentMutations(mutations, create_input, update_input)


def _arguments(resolver: Any, **annotations: Any) -> None:
    """Give ``resolver`` exactly these GraphQL arguments, in this order (Strawberry reads
    a resolver's parameters and their annotations): ``version`` is dropped from its
    signature when the type is not versioned."""
    signature = inspect.signature(resolver)
    parameters = [signature.parameters["self"]] + [
        signature.parameters[name].replace(annotation=annotation, default=inspect.Parameter.empty)
        for name, annotation in annotations.items()
    ]
    resolver.__signature__ = signature.replace(parameters=parameters, return_annotation=Any)
    resolver.__annotations__ = {**annotations, "return": Any}
