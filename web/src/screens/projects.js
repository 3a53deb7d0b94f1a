// Projects: a placeholder until its screens are built. To build them, replace `routes` below
// with the family's screens (list `/:team/projects`, details `/:team/projects/:id`, …) and keep `nav`.

import { comingSoon } from '../ui/placeholder.js';

export const nav = { path: 'projects', label: 'Projects', icon: 'projects', order: 10 };

export const routes = [
  {
    path: '/:team/projects',
    title: 'Projects',
    access: 'team',
    view: comingSoon({
      title: 'Projects',
      icon: 'projects',
      text: 'Projects hold the versions of your stacks and their images.',
      routes: ['GET /api/{teamSlug}/projects', 'POST /api/{teamSlug}/projects'],
    }),
  },
];
