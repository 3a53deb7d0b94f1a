// Nodes: a placeholder until its screens are built. To build them, replace `routes` below
// with the family's screens (list `/:team/nodes`, details `/:team/nodes/:id`, …) and keep `nav`.

import { comingSoon } from '../ui/placeholder.js';

export const nav = { path: 'nodes', label: 'Nodes', icon: 'nodes', order: 30 };

export const routes = [
  {
    path: '/:team/nodes',
    title: 'Nodes',
    access: 'team',
    view: comingSoon({
      title: 'Nodes',
      icon: 'nodes',
      text: 'Nodes are the Docker hosts and Kubernetes clusters your agents run on.',
      routes: ['GET /api/{teamSlug}/nodes', 'POST /api/{teamSlug}/nodes'],
    }),
  },
];
