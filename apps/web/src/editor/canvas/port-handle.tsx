"use client";

import {
  type Connection,
  type IsValidConnection,
  type Position,
  type ReactFlowState,
  useNodeId,
  useStore,
  useStoreApi,
} from "@xyflow/react";
import { XYHandle } from "@xyflow/system";
import { type CSSProperties, type MouseEvent, memo, type ReactNode, type TouchEvent } from "react";

// A node's port on the canvas: what React Flow's Handle is (the same classes and data attributes, so React Flow
// measures it, finds it under the pointer and connects to it, through its own XYHandle), with one difference that
// matters on a large canvas. React Flow's Handle subscribes to whether any connection is being drawn, so starting
// and ending a drag re-rendered every handle on the canvas, thousands of them, twice per edge. A port subscribes
// only to whether a connection starts at it or points at it: drawing an edge re-renders the two ports involved.
// Ports always stay targets for the pointer (`connectionindicator`); a drop on one of the wrong kind is refused by
// React Flow's own check and explained by the canvas.

/** What a port shows of a connection being made. */
type PortState = "" | "from" | "to" | "to-valid" | "click-from";

function portState(s: ReactFlowState, nodeId: string, id: string, type: "source" | "target"): PortState {
  const is = (h: { nodeId: string; id?: string | null; type: string } | null | undefined) =>
    h != null && h.nodeId === nodeId && (h.id ?? null) === id && h.type === type;
  const { fromHandle, toHandle, isValid } = s.connection;
  if (is(fromHandle)) return "from";
  if (is(toHandle)) return isValid ? "to-valid" : "to";
  if (is(s.connectionClickStartHandle)) return "click-from";
  return "";
}

const STATE_CLASSES: Record<PortState, string> = {
  "": "",
  from: " connectingfrom",
  to: " connectingto",
  "to-valid": " connectingto valid",
  "click-from": " clickconnecting",
};

export interface PortHandleProps {
  id: string;
  type: "source" | "target";
  position: Position;
  className?: string;
  style?: CSSProperties;
  title?: string;
  "aria-label"?: string;
  children?: ReactNode;
}

export const PortHandle = memo(function PortHandle({
  id,
  type,
  position,
  className,
  children,
  ...rest
}: PortHandleProps) {
  const nodeId = useNodeId() ?? "";
  const store = useStoreApi();
  const state = useStore((s) => portState(s, nodeId, id, type));
  const { rfId, noPanClassName } = store.getState();

  const onConnect = (connection: Connection) => store.getState().onConnect?.(connection);
  const isValidConnection: IsValidConnection = (connection) => store.getState().isValidConnection?.(connection) ?? true;

  const onPointerDown = (event: MouseEvent<HTMLDivElement> | TouchEvent<HTMLDivElement>) => {
    if ("button" in event && event.button !== 0) return;
    const s = store.getState();
    XYHandle.onPointerDown(event.nativeEvent, {
      handleDomNode: event.currentTarget,
      autoPanOnConnect: s.autoPanOnConnect,
      connectionMode: s.connectionMode,
      connectionRadius: s.connectionRadius,
      domNode: s.domNode,
      nodeLookup: s.nodeLookup,
      lib: s.lib,
      isTarget: type === "target",
      handleId: id,
      nodeId,
      flowId: s.rfId,
      panBy: s.panBy,
      cancelConnection: s.cancelConnection,
      onConnectStart: s.onConnectStart,
      onConnectEnd: (...args) => store.getState().onConnectEnd?.(...args),
      updateConnection: s.updateConnection,
      onConnect,
      isValidConnection,
      getTransform: () => store.getState().transform,
      getFromHandle: () => store.getState().connection.fromHandle,
      autoPanSpeed: s.autoPanSpeed,
      dragThreshold: s.connectionDragThreshold,
    });
  };

  // Click one port, then another: the same connection as a drag, for those who would rather not drag.
  const onClick = (event: MouseEvent<HTMLDivElement>) => {
    const s = store.getState();
    if (!s.connectOnClick) return;
    const start = s.connectionClickStartHandle;
    if (!start) {
      s.onClickConnectStart?.(event.nativeEvent, { nodeId, handleId: id, handleType: type });
      store.setState({ connectionClickStartHandle: { nodeId, type, id } });
      return;
    }
    const { connection, isValid } = XYHandle.isValid(event.nativeEvent, {
      handle: { nodeId, id, type },
      connectionMode: s.connectionMode,
      fromNodeId: start.nodeId,
      fromHandleId: start.id ?? null,
      fromType: start.type,
      isValidConnection,
      flowId: s.rfId,
      doc: document,
      lib: s.lib,
      nodeLookup: s.nodeLookup,
    });
    if (isValid && connection) onConnect(connection);
    store.setState({ connectionClickStartHandle: null });
  };

  return (
    // biome-ignore lint/a11y/noStaticElementInteractions: a pointer target for drawing edges; from the keyboard, a node added next to the selected one is connected to it
    // biome-ignore lint/a11y/useKeyWithClickEvents: as above
    <div
      data-handleid={id}
      data-nodeid={nodeId}
      data-handlepos={position}
      data-id={`${rfId}-${nodeId}-${id}-${type}`}
      className={`react-flow__handle react-flow__handle-${position} nodrag ${noPanClassName} ${type} connectable connectablestart connectableend connectionindicator${STATE_CLASSES[state]}${className ? ` ${className}` : ""}`}
      onMouseDown={onPointerDown}
      onTouchStart={onPointerDown}
      onClick={onClick}
      {...rest}
    >
      {children}
    </div>
  );
});
